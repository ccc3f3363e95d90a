// EnableKey: Enabled or Disabled -> Enabled (a key pending deletion is refused: cancel first).
import { assertMayEnableOrDisable } from './key-policy.ts';
import { changeKeyState } from './key-state-change.ts';
import type { Handler } from './operation.ts';

export const enableKey: Handler<'EnableKey'> = (vault, req, ctx) => changeKeyState(vault, req.KeyId, ctx, assertMayEnableOrDisable, 'Enabled');
