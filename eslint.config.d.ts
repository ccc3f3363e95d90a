// Types of eslint.config.js for the test that proves the layering rule fires.
import type { Linter } from 'eslint';

export declare const layering: Linter.Config[];
declare const config: Linter.Config[];
export default config;
