// AttachCertificate (DeskKMS extension, `deskkms cert attach`): a PEM chain whose first
// certificate holds the version's public key, attached to the version.
import { invalidParameter } from '../contract/errors.ts';
import { parseCertificate } from '../x509/certificate.ts';
import { attachWrite, readChain } from './certificates.ts';
import type { Handler } from './operation.ts';
import { publicKeyOf, resolveKey, resolveVersion } from './targets.ts';

export const attachCertificate: Handler<'AttachCertificate'> = (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  const version = resolveVersion(vault, key, req.KeyVersionId, ctx);
  const chain = readChain(req.CertificateChain, 'CertificateChain');
  const leaf = parseCertificate(chain[0]!);
  if (!Buffer.from(leaf.spki).equals(Buffer.from(publicKeyOf(version).spki))) {
    throw invalidParameter('CertificateChain', `the first certificate's public key is not key version ${version.key_version_id}'s`);
  }
  return Promise.resolve({
    response: { KeyId: key.key_id, KeyVersionId: version.key_version_id, CertificateCount: chain.length },
    write: attachWrite(vault, key.key_id, version.key_version_id, chain),
  });
};
