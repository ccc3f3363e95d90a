// Decrypt: being built (issue 18); this stub refuses until its operation lands.
import { KmsError } from '../contract/errors.ts';
import type { Handler } from './operation.ts';

export const decrypt: Handler<'Decrypt'> = () => Promise.reject(new KmsError('UnsupportedOperation', 'Decrypt is not built yet'));
