// ScheduleKeyDeletion: PendingDeletion, due after PendingWindowInDays (the vault purges it then).
import { kmsDate } from '../vault/vault.ts';
import { assertMayScheduleDeletion } from './key-policy.ts';
import { changeKeyState } from './key-state-change.ts';
import type { Handler } from './operation.ts';

export const scheduleKeyDeletion: Handler<'ScheduleKeyDeletion'> = (vault, req, ctx) => {
  const due = kmsDate(new Date(vault.now().getTime() + req.PendingWindowInDays * 86_400_000));
  return changeKeyState(vault, req.KeyId, ctx, assertMayScheduleDeletion, 'PendingDeletion', due);
};
