// Public-key, CSR and certificate Actions (DeskKMS extensions, issue 5): the operations behind
// `deskkms pubkey`, `deskkms csr` and `deskkms cert`, as Actions so that batch, the API and the
// desktop app reach them through the same handler table.
// Every signature is made by the key worker with the version's sealed key, after the same
// checks as AsymmetricSign (key state, SIGN/VERIFY usage, algorithm, private material present).
import { AsnParser } from '@peculiar/asn1-schema';
import { BasicConstraints, Certificate, id_ce_basicConstraints } from '@peculiar/asn1-x509';
import type { ActionName } from '../contract/actions.ts';
import { encodeBase64 } from '../contract/base64.ts';
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { KEY_SPEC_TABLE, type SigningAlgorithm } from '../contract/specs.ts';
import { decodePem } from '../crypto/pem.ts';
import { attachChain, attachedChain, getVersion } from '../vault/records.ts';
import type { Db } from '../vault/store.ts';
import type { Vault } from '../vault/vault.ts';
import { kmsDate } from '../vault/vault.ts';
import { certificatePem, issueCertificate, parseCertificate, selfSignCertificate, type DigestSigner } from '../x509/certificate.ts';
import { buildCsr, csrPem, type CsrKey } from '../x509/csr.ts';
import { publicKeyFormats, type BundleManifest } from '../x509/public-bundle.ts';
import type { CallContext, Handler } from './operation.ts';
import { publicKeyOf, sealedRef, cryptoTarget } from './crypto-handlers.ts';
import { resolve } from './key-handlers.ts';

type X509Action = Extract<
  ActionName,
  'GetPublicKeyBundle' | 'CreateCertificateSigningRequest' | 'CreateSelfSignedCertificate' | 'IssueCertificate' | 'AttachCertificate' | 'GetCertificates'
>;

interface VersionSigner {
  readonly keyId: string;
  readonly keyVersionId: string;
  readonly key: CsrKey;
  readonly sign: DigestSigner;
}

/** A key version as an X.509 signer: checked as AsymmetricSign checks it; signatures from the key worker. */
function versionSigner(vault: Vault, req: { KeyId: string; KeyVersionId: string; Algorithm?: string | undefined }, ctx: CallContext): VersionSigner {
  const key = resolve(vault, req.KeyId, ctx);
  if (key.key_usage !== 'SIGN/VERIFY') throw invalidParameter('KeyId', `key ${key.key_id} has usage ${key.key_usage}; requests and certificates are signed by SIGN/VERIFY keys`);
  const info = KEY_SPEC_TABLE[key.key_spec];
  const algorithm = (req.Algorithm ?? (info.family === 'RSA' ? 'RSA_PKCS1_SHA_256' : info.algorithms['SIGN/VERIFY'][0])) as SigningAlgorithm;
  // The same checks and the same sealed reference as AsymmetricSign.
  const t = cryptoTarget(vault, { KeyId: key.key_id, KeyVersionId: req.KeyVersionId, Algorithm: algorithm }, 'SIGN/VERIFY', ctx);
  const ref = sealedRef(t);
  return {
    keyId: t.key.key_id,
    keyVersionId: t.version.key_version_id,
    key: { spec: t.key.key_spec, spki: publicKeyOf(t.version).spki, algorithm },
    sign: async (digest) => {
      await vault.ensureUnlocked();
      return (await vault.worker.request({ op: 'sign', key: ref, algorithm, digest })).signature;
    },
  };
}

function omissions(formats: BundleManifest['formats']): { Jwk?: string; OpenSsh?: string } {
  const jwk = formats.jwk;
  const ssh = formats.openssh;
  return { ...('omitted' in jwk ? { Jwk: jwk.reason } : {}), ...('omitted' in ssh ? { OpenSsh: ssh.reason } : {}) };
}

/** PEM CERTIFICATE blocks, each strictly parsed. */
function readChain(text: string, parameter: string): Uint8Array[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw invalidParameter(parameter, 'holds no PEM CERTIFICATE');
  return blocks.map((block) => {
    const der = decodePem(block, 'CERTIFICATE', parameter);
    parseCertificate(der);
    return der;
  });
}

function isCa(der: Uint8Array): boolean {
  const ext = AsnParser.parse(der, Certificate).tbsCertificate.extensions?.find((e) => e.extnID === id_ce_basicConstraints);
  return ext ? AsnParser.parse(ext.extnValue, BasicConstraints).cA : false;
}

function validity(vault: Vault, days: number): { notBefore: Date; notAfter: Date } {
  const now = vault.now();
  return { notBefore: now, notAfter: new Date(now.getTime() + days * 86_400_000) };
}

/** Attaches `chain` to the version inside the write, refusing if the version vanished. */
function attachWrite(vault: Vault, keyId: string, keyVersionId: string, chain: readonly Uint8Array[]) {
  const pem = chain.map(certificatePem).join('');
  return (db: Db): void => {
    if (!getVersion(db, keyId, keyVersionId)) throw new KmsError('Forbidden.KeyNotFound', `key version ${keyVersionId} does not exist for key ${keyId}`);
    attachChain(db, keyVersionId, pem, kmsDate(vault.now()));
  };
}

export const X509_HANDLERS: { readonly [A in X509Action]: Handler<A> } = {
  GetPublicKeyBundle(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    const version = vault.resolveVersion(key, req.KeyVersionId);
    ctx.keyVersionId = version.key_version_id;
    const publicKey = publicKeyOf(version);
    if (publicKey.spec !== key.key_spec) throw new KmsError('Vault.Corrupt', `key version ${version.key_version_id} holds a ${publicKey.spec} key, its key is ${key.key_spec}`);
    const chain = attachedChain(vault.store.db, version.key_version_id);
    const bundle = publicKeyFormats(publicKey.spki, {
      keyId: key.key_id,
      keyVersionId: version.key_version_id,
      spec: key.key_spec,
      ...(chain ? { certificateChain: chain } : {}),
    });
    return Promise.resolve({
      response: {
        KeyId: key.key_id,
        KeyVersionId: version.key_version_id,
        KeySpec: key.key_spec,
        PublicKeyPem: bundle.pem,
        PublicKeyDer: encodeBase64(bundle.der),
        ...(bundle.jwk ? { Jwk: bundle.jwk } : {}),
        // One line without its newline (the bundle file ends with one).
        ...(bundle.openssh !== undefined ? { OpenSsh: bundle.openssh.trimEnd() } : {}),
        Fingerprints: {
          SpkiSha256Hex: bundle.fingerprints.spkiSha256Hex,
          SpkiSha256Base64: bundle.fingerprints.spkiSha256Base64,
          ...(bundle.fingerprints.openssh ? { OpenSsh: bundle.fingerprints.openssh } : {}),
        },
        // Why a format is absent (SM2 has no JWK curve, OpenSSH no SM2/secp256k1 type), from the manifest.
        Omitted: omissions(bundle.manifest.formats),
        // The certificate chain attached to the version (AttachCertificate, CreateSelfSignedCertificate).
        ...(bundle.certificateChain !== undefined ? { CertificateChain: bundle.certificateChain } : {}),
      },
    });
  },

  async CreateCertificateSigningRequest(vault, req, ctx) {
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
  },

  async CreateSelfSignedCertificate(vault, req, ctx) {
    const signer = versionSigner(vault, req, ctx);
    const der = await selfSignCertificate({ subject: req.Subject, ...validity(vault, req.ValidityDays), ...(req.PathLen !== undefined ? { pathLen: req.PathLen } : {}) }, signer.key, signer.sign);
    return {
      response: { KeyId: signer.keyId, KeyVersionId: signer.keyVersionId, Certificate: certificatePem(der) },
      write: attachWrite(vault, signer.keyId, signer.keyVersionId, [der]),
    };
  },

  async IssueCertificate(vault, req, ctx) {
    const signer = versionSigner(vault, req, ctx);
    const attached = attachedChain(vault.store.db, signer.keyVersionId);
    if (!attached) {
      throw invalidParameter('KeyVersionId', `CA key version ${signer.keyVersionId} has no certificate attached: CreateSelfSignedCertificate or AttachCertificate first`);
    }
    const caChain = readChain(attached, 'KeyVersionId');
    if (req.PathLen !== undefined && !req.IsCa) throw invalidParameter('PathLen', 'applies only with IsCa true');
    const der = await issueCertificate(
      decodePem(req.Csr, 'CERTIFICATE REQUEST', 'Csr'),
      { ...signer.key, certificate: caChain[0]! },
      { ...validity(vault, req.ValidityDays), policy: req.Policy, ...(req.IsCa ? { ca: req.PathLen !== undefined ? { pathLen: req.PathLen } : {} } : {}) },
      signer.sign,
    );
    const leaf = certificatePem(der);
    return { response: { KeyId: signer.keyId, KeyVersionId: signer.keyVersionId, Certificate: leaf, CertificateChain: leaf + caChain.map(certificatePem).join('') } };
  },

  AttachCertificate(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    const version = vault.resolveVersion(key, req.KeyVersionId);
    ctx.keyVersionId = version.key_version_id;
    const chain = readChain(req.CertificateChain, 'CertificateChain');
    const leaf = parseCertificate(chain[0]!);
    if (!Buffer.from(leaf.spki).equals(Buffer.from(publicKeyOf(version).spki))) {
      throw invalidParameter('CertificateChain', `the first certificate's public key is not key version ${version.key_version_id}'s`);
    }
    return Promise.resolve({
      response: { KeyId: key.key_id, KeyVersionId: version.key_version_id, CertificateCount: chain.length },
      write: attachWrite(vault, key.key_id, version.key_version_id, chain),
    });
  },

  GetCertificates(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    const version = vault.resolveVersion(key, req.KeyVersionId);
    ctx.keyVersionId = version.key_version_id;
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
  },
};
