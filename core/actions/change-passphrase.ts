// ChangePassphrase (DeskKMS, local only): the data key of a passphrase vault wrapped under a new
// passphrase, after the current one is proven (it must open the vault's wrapped key to the key the
// worker holds). One header row changes, in the transaction of the audit entry.
import type { Handler } from './operation.ts';
import { changePassphrase as change } from './protection-change.ts';

export const changePassphrase: Handler<'ChangePassphrase'> = async (vault, req) => {
  const { answer, ...effects } = await change(vault, req.Passphrase, req.NewPassphrase);
  return { response: answer, ...effects };
};
