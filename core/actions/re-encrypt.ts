// ReEncrypt: being built (issue 18); this stub refuses until its operation lands.
import { KmsError } from '../contract/errors.ts';
import type { Handler } from './operation.ts';

export const reEncrypt: Handler<'ReEncrypt'> = () => Promise.reject(new KmsError('UnsupportedOperation', 'ReEncrypt is not built yet'));
