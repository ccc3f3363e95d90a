// CreateSelfSignedCertificate (DeskKMS extension, `deskkms cert self-sign`): a CA certificate for
// the version, signed by the key worker and attached to the version in the same write.
import { certificatePem, selfSignCertificate } from '../x509/certificate.ts';
import { attachWrite, validity, versionSigner } from './certificates.ts';
import type { Handler } from './operation.ts';

export const createSelfSignedCertificate: Handler<'CreateSelfSignedCertificate'> = async (vault, req, ctx) => {
  const signer = versionSigner(vault, req, ctx);
  const der = await selfSignCertificate({ subject: req.Subject, ...validity(vault, req.ValidityDays), ...(req.PathLen !== undefined ? { pathLen: req.PathLen } : {}) }, signer.key, signer.sign);
  return {
    response: { KeyId: signer.keyId, KeyVersionId: signer.keyVersionId, Certificate: certificatePem(der) },
    write: attachWrite(vault, signer.keyId, signer.keyVersionId, [der]),
  };
};
