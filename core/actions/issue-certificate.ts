// IssueCertificate (DeskKMS extension, `deskkms cert issue`): a certificate for a CSR, signed by a
// CA key version that has its certificate attached; the answer carries the chain to the CA.
import { invalidParameter } from '../contract/errors.ts';
import { decodePem } from '../crypto/pem.ts';
import { attachedChain } from '../vault/records.ts';
import { certificatePem, issueCertificate as issue } from '../x509/certificate.ts';
import { readChain, validity, versionSigner } from './certificates.ts';
import type { Handler } from './operation.ts';

export const issueCertificate: Handler<'IssueCertificate'> = async (vault, req, ctx) => {
  const signer = versionSigner(vault, req, ctx);
  const attached = attachedChain(vault.store.db, signer.keyVersionId);
  if (!attached) {
    throw invalidParameter('KeyVersionId', `CA key version ${signer.keyVersionId} has no certificate attached: CreateSelfSignedCertificate or AttachCertificate first`);
  }
  const caChain = readChain(attached, 'KeyVersionId');
  if (req.PathLen !== undefined && !req.IsCa) throw invalidParameter('PathLen', 'applies only with IsCa true');
  const der = await issue(
    decodePem(req.Csr, 'CERTIFICATE REQUEST', 'Csr'),
    { ...signer.key, certificate: caChain[0]! },
    { ...validity(vault, req.ValidityDays), policy: req.Policy, ...(req.IsCa ? { ca: req.PathLen !== undefined ? { pathLen: req.PathLen } : {} } : {}) },
    signer.sign,
  );
  const leaf = certificatePem(der);
  return { response: { KeyId: signer.keyId, KeyVersionId: signer.keyVersionId, Certificate: leaf, CertificateChain: leaf + caChain.map(certificatePem).join('') } };
};
