// DisableKey: Enabled or Disabled -> Disabled (a key pending deletion is refused).
import { assertMayEnableOrDisable } from './key-policy.ts';
import { changeKeyState } from './key-state-change.ts';
import type { Handler } from './operation.ts';

export const disableKey: Handler<'DisableKey'> = (vault, req, ctx) => changeKeyState(vault, req.KeyId, ctx, assertMayEnableOrDisable, 'Disabled');
