// RotateDataKey (DeskKMS, local only): a new random data key for the vault; every private key and
// access-key secret is resealed under it and every record MACed again, in one transaction. Import
// tokens outstanding are revoked (their wrapping keys cannot be resealed: see core/vault/rotation.ts).
import { invalidParameter } from '../contract/errors.ts';
import type { Handler } from './operation.ts';
import { rotateDataKey as rotate } from './protection-change.ts';

export const rotateDataKey: Handler<'RotateDataKey'> = async (vault, req, ctx) => {
  if (vault.protectionKind === 'keychain' && req.Passphrase !== undefined) {
    throw invalidParameter('Passphrase', 'is for a vault protected by a passphrase; this one is protected by the OS keychain');
  }
  const { answer, ...effects } = await rotate(vault, ctx.requestId, req.Passphrase);
  return { response: answer, ...effects };
};
