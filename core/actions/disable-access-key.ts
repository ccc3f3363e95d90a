// DisableAccessKey (DeskKMS, local only): requests signed with the access key are refused
// (InvalidAccessKeyId.Inactive) until it is enabled again.
import { setAccessKeyState } from '../vault/records.ts';
import { accessKeyNotFound } from './access-keys.ts';
import type { Handler } from './operation.ts';

export const disableAccessKey: Handler<'DisableAccessKey'> = (_vault, req, ctx) => {
  ctx.keyId = req.AccessKeyId;
  return Promise.resolve({
    response: { AccessKeyId: req.AccessKeyId, State: 'Disabled' as const },
    write: (db) => {
      if (!setAccessKeyState(db, req.AccessKeyId, 'Disabled')) throw accessKeyNotFound(req.AccessKeyId);
    },
  });
};
