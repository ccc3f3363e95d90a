// CreateCertificateSigningRequest (DeskKMS extension, `deskkms csr`): a PKCS#10 request signed by
// the key worker with the version's sealed key.
import { buildCsr, csrPem } from '../x509/csr.ts';
import { versionSigner } from './certificates.ts';
import type { Handler } from './operation.ts';

export const createCertificateSigningRequest: Handler<'CreateCertificateSigningRequest'> = async (vault, req, ctx) => {
  const signer = versionSigner(vault, req, ctx);
  const der = await buildCsr(
    {
      subject: req.Subject,
      sans: req.SubjectAlternativeNames ?? [],
      keyUsage: req.KeyUsage ?? [],
      extKeyUsage: req.ExtendedKeyUsage ?? [],
      ...(req.BasicConstraints ? { basicConstraints: { ca: req.BasicConstraints.CA, ...(req.BasicConstraints.PathLen !== undefined ? { pathLen: req.BasicConstraints.PathLen } : {}) } } : {}),
    },
    signer.key,
    signer.sign,
  );
  return { response: { KeyId: signer.keyId, KeyVersionId: signer.keyVersionId, Csr: csrPem(der) } };
};
