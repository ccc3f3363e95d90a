// AsymmetricSign: the key worker signs a digest with the version's sealed private key.
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import type { Handler } from './operation.ts';
import { cryptoTarget, sealedRef } from './targets.ts';

export const asymmetricSign: Handler<'AsymmetricSign'> = async (vault, req, ctx) => {
  const t = cryptoTarget(vault, req, 'SIGN/VERIFY', ctx);
  const digest = decodeBase64(req.Digest, 'Digest');
  const { signature } = await vault.worker.request({ op: 'sign', key: sealedRef(t), algorithm: req.Algorithm, digest });
  return { response: { KeyId: t.key.key_id, KeyVersionId: t.version.key_version_id, Value: encodeBase64(signature) } };
};
