// Encrypt: being built (issue 18); this stub refuses until its operation lands.
import { KmsError } from '../contract/errors.ts';
import type { Handler } from './operation.ts';

export const encrypt: Handler<'Encrypt'> = () => Promise.reject(new KmsError('UnsupportedOperation', 'Encrypt is not built yet'));
