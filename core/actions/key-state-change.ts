// A key state change (EnableKey, DisableKey, ScheduleKeyDeletion, CancelKeyDeletion): the key
// policy's precondition checked now (a prompt refusal) and again inside the write, where SQLite
// serialises writers, so a change racing another process is refused rather than lost.
import { updateKeyState, type KeyRow, type KeyState } from '../vault/records.ts';
import type { Vault } from '../vault/vault.ts';
import type { CallContext, HandlerResult } from './operation.ts';
import { currentKey, resolveKey } from './targets.ts';

/** The Actions whose only effect is a key state change: they answer nothing but their RequestId. */
type KeyStateChange = 'EnableKey' | 'DisableKey' | 'ScheduleKeyDeletion' | 'CancelKeyDeletion';

export function changeKeyState(
  vault: Vault,
  keyIdParam: string,
  ctx: CallContext,
  check: (k: KeyRow) => void,
  to: KeyState,
  deleteDate: string | null = null,
): Promise<HandlerResult<KeyStateChange>> {
  const key = resolveKey(vault, keyIdParam, ctx);
  check(key);
  return Promise.resolve({
    response: {},
    write: (db) => {
      const k = currentKey(db, key.key_id);
      check(k);
      updateKeyState(db, k.key_id, to, deleteDate);
    },
  });
}
