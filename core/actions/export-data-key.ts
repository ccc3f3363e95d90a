// ExportDataKey: being built (issue 18); this stub refuses until its operation lands.
import { KmsError } from '../contract/errors.ts';
import type { Handler } from './operation.ts';

export const exportDataKey: Handler<'ExportDataKey'> = () => Promise.reject(new KmsError('UnsupportedOperation', 'ExportDataKey is not built yet'));
