// CancelKeyDeletion: PendingDeletion -> Enabled.
import { assertMayCancelDeletion } from './key-policy.ts';
import { changeKeyState } from './key-state-change.ts';
import type { Handler } from './operation.ts';

export const cancelKeyDeletion: Handler<'CancelKeyDeletion'> = (vault, req, ctx) => changeKeyState(vault, req.KeyId, ctx, assertMayCancelDeletion, 'Enabled');
