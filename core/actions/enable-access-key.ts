// EnableAccessKey (DeskKMS, local only): the access key authenticates requests again.
import { setAccessKeyState } from '../vault/records.ts';
import { accessKeyNotFound } from './access-keys.ts';
import type { Handler } from './operation.ts';

export const enableAccessKey: Handler<'EnableAccessKey'> = (_vault, req, ctx) => {
  ctx.keyId = req.AccessKeyId;
  return Promise.resolve({
    response: { AccessKeyId: req.AccessKeyId, State: 'Enabled' as const },
    write: (db) => {
      if (!setAccessKeyState(db, req.AccessKeyId, 'Enabled')) throw accessKeyNotFound(req.AccessKeyId);
    },
  });
};
