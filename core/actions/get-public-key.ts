// GetPublicKey: a version's public key as PEM (any state, any material: the public half is public).
import { importPublicKey, publicKeyPem } from '../crypto/engine.ts';
import { dryRunPassed } from './dry-run.ts';
import type { Handler } from './operation.ts';
import { resolveKey, resolveVersion } from './targets.ts';

export const getPublicKey: Handler<'GetPublicKey'> = (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  const version = resolveVersion(vault, key, req.KeyVersionId, ctx);
  if (req.DryRun) dryRunPassed('GetPublicKey');
  const pem = publicKeyPem(importPublicKey(version.public_key));
  return Promise.resolve({ response: { KeyId: key.key_id, KeyVersionId: version.key_version_id, PublicKey: pem } });
};
