// GenerateDataKeyWithoutPlaintext: being built (issue 18); this stub refuses until its operation lands.
import { KmsError } from '../contract/errors.ts';
import type { Handler } from './operation.ts';

export const generateDataKeyWithoutPlaintext: Handler<'GenerateDataKeyWithoutPlaintext'> = () => Promise.reject(new KmsError('UnsupportedOperation', 'GenerateDataKeyWithoutPlaintext is not built yet'));
