// GetCertificates (DeskKMS extension): the chain attached to a version, each certificate described.
import { AsnParser } from '@peculiar/asn1-schema';
import { BasicConstraints, Certificate, id_ce_basicConstraints } from '@peculiar/asn1-x509';
import { attachedChain } from '../vault/records.ts';
import { kmsDate } from '../vault/vault.ts';
import { certificatePem, parseCertificate } from '../x509/certificate.ts';
import { readChain } from './certificates.ts';
import type { Handler } from './operation.ts';
import { resolveKey, resolveVersion } from './targets.ts';

function isCa(der: Uint8Array): boolean {
  const ext = AsnParser.parse(der, Certificate).tbsCertificate.extensions?.find((e) => e.extnID === id_ce_basicConstraints);
  return ext ? AsnParser.parse(ext.extnValue, BasicConstraints).cA : false;
}

export const getCertificates: Handler<'GetCertificates'> = (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  const version = resolveVersion(vault, key, req.KeyVersionId, ctx, 'allowed');
  const attached = attachedChain(vault.store.db, version.key_version_id);
  const certificates = (attached ? readChain(attached, 'KeyVersionId') : []).map((der) => {
    const c = parseCertificate(der);
    return {
      Pem: certificatePem(der),
      Subject: c.subject,
      Issuer: c.issuer,
      SerialNumber: c.serialHex,
      NotBefore: kmsDate(c.notBefore),
      NotAfter: kmsDate(c.notAfter),
      IsCa: isCa(der),
    };
  });
  return Promise.resolve({ response: { KeyId: key.key_id, KeyVersionId: version.key_version_id, Certificates: certificates } });
};
