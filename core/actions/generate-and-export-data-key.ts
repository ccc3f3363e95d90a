// GenerateAndExportDataKey: being built (issue 18); this stub refuses until its operation lands.
import { KmsError } from '../contract/errors.ts';
import type { Handler } from './operation.ts';

export const generateAndExportDataKey: Handler<'GenerateAndExportDataKey'> = () => Promise.reject(new KmsError('UnsupportedOperation', 'GenerateAndExportDataKey is not built yet'));
