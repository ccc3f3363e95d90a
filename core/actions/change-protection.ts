// ChangeProtection (DeskKMS, local only): moves the data key from the OS keychain to a passphrase or
// back (protection-change.ts says how a kill at any moment leaves a vault that opens).
import { invalidParameter } from '../contract/errors.ts';
import type { Handler } from './operation.ts';
import { changeProtection as change } from './protection-change.ts';

export const changeProtection: Handler<'ChangeProtection'> = async (vault, req) => {
  if (vault.protectionKind === 'keychain' && req.Passphrase !== undefined) {
    throw invalidParameter('Passphrase', 'is for a vault protected by a passphrase; this one is protected by the OS keychain');
  }
  if (req.Protection === 'keychain' && req.NewPassphrase !== undefined) throw invalidParameter('NewPassphrase', 'is for a move to a passphrase, not to the keychain');
  const { answer, ...effects } = await change(vault, req.Protection, req.Passphrase, req.NewPassphrase);
  return { response: answer, ...effects };
};
