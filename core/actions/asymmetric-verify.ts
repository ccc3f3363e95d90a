// AsymmetricVerify: needs only the stored public key, so it runs here (also for public-key-only versions).
import { decodeBase64 } from '../contract/base64.ts';
import { verifyDigest } from '../crypto/engine.ts';
import { dryRunPassed } from './dry-run.ts';
import type { Handler } from './operation.ts';
import { cryptoTarget, publicKeyOf } from './targets.ts';

export const asymmetricVerify: Handler<'AsymmetricVerify'> = (vault, req, ctx) => {
  const t = cryptoTarget(vault, req, 'SIGN/VERIFY', ctx);
  const valid = verifyDigest(publicKeyOf(t.version), req.Algorithm, decodeBase64(req.Digest, 'Digest'), decodeBase64(req.Value, 'Value'));
  // A DryRun verifies too (a public-key operation, nothing changes) and answers only that it would succeed.
  if (req.DryRun) dryRunPassed('AsymmetricVerify');
  return Promise.resolve({ response: { KeyId: t.key.key_id, KeyVersionId: t.version.key_version_id, Value: valid } });
};
