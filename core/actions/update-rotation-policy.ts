// UpdateRotationPolicy: being built (issue 18); this stub refuses until its operation lands.
import { KmsError } from '../contract/errors.ts';
import type { Handler } from './operation.ts';

export const updateRotationPolicy: Handler<'UpdateRotationPolicy'> = () => Promise.reject(new KmsError('UnsupportedOperation', 'UpdateRotationPolicy is not built yet'));
