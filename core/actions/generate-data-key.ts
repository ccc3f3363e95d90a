// GenerateDataKey: being built (issue 18); this stub refuses until its operation lands.
import { KmsError } from '../contract/errors.ts';
import type { Handler } from './operation.ts';

export const generateDataKey: Handler<'GenerateDataKey'> = () => Promise.reject(new KmsError('UnsupportedOperation', 'GenerateDataKey is not built yet'));
