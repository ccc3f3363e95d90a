// CreateAccessKey (DeskKMS, local only): an access key for "deskkms serve", with its policy (default
// full access; a policy can never grant the local-only Actions). The secret is generated and sealed
// in the key worker and answered once: the vault keeps only the sealed copy, the audit entry only
// the AccessKeyId.
import { FULL_ACCESS, parsePolicy } from '../contract/policy.ts';
import { insertAccessKey } from '../vault/records.ts';
import { accessKeyInfo, newAccessKey } from './access-keys.ts';
import type { Handler } from './operation.ts';

export const createAccessKey: Handler<'CreateAccessKey'> = async (vault, req, ctx) => {
  const policy = req.Policy === undefined ? FULL_ACCESS : parsePolicy(req.Policy);
  const { row, secret } = await newAccessKey(vault, policy, req.Description);
  ctx.keyId = row.access_key_id;
  return {
    response: { ...accessKeyInfo(row), AccessKeySecret: secret },
    write: (db) => insertAccessKey(db, row),
  };
};
