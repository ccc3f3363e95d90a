// ListAccessKeys (DeskKMS, local only): every access key with its state and policy, never a secret.
import { listAccessKeys as listAccessKeyRows } from '../vault/records.ts';
import { accessKeyInfo } from './access-keys.ts';
import type { Handler } from './operation.ts';

export const listAccessKeys: Handler<'ListAccessKeys'> = (vault) =>
  Promise.resolve({ response: { AccessKeys: listAccessKeyRows(vault.store.db).map(accessKeyInfo) } });
