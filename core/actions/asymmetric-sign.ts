// AsymmetricSign: the key worker signs a digest with the version's sealed private key.
import { decodeBase64 } from '../contract/base64.ts';
import { assertDigest } from '../crypto/engine.ts';
import { dryRunPassed } from './dry-run.ts';
import type { Handler } from './operation.ts';
import { cryptoTarget, sealedRef } from './targets.ts';

export const asymmetricSign: Handler<'AsymmetricSign'> = async (vault, req, ctx) => {
  const t = cryptoTarget(vault, req, 'SIGN/VERIFY', ctx);
  const digest = decodeBase64(req.Digest, 'Digest');
  const key = sealedRef(t);
  if (req.DryRun) {
    // The Digest check the key worker's signDigest makes (the engine's own function, one rule and wording).
    assertDigest(digest, req.Algorithm);
    dryRunPassed('AsymmetricSign');
  }
  const { signature } = await vault.worker.request({ op: 'sign', key, algorithm: req.Algorithm, digest });
  return { response: { KeyId: t.key.key_id, KeyVersionId: t.version.key_version_id, Value: signature } };
};
