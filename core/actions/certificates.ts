// What the CSR and certificate Actions share (DeskKMS extensions, issue 5): a key version as an
// X.509 signer, checked by the key policy exactly as AsymmetricSign is (key state, SIGN/VERIFY
// usage, algorithm, private material present), and the chains attached to versions.
import { decodeBase64 } from '../contract/base64.ts';
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { KEY_SPEC_TABLE, type SigningAlgorithm } from '../contract/specs.ts';
import { decodePem } from '../crypto/pem.ts';
import { attachChain, getVersion } from '../vault/records.ts';
import type { Db } from '../vault/store.ts';
import { kmsDate, type Vault } from '../vault/vault.ts';
import { certificatePem, parseCertificate, type DigestSigner } from '../x509/certificate.ts';
import type { CsrKey } from '../x509/csr.ts';
import { assertSignsCertificates } from './key-policy.ts';
import type { CallContext } from './operation.ts';
import { cryptoTarget, publicKeyOf, resolveKey, sealedRef } from './targets.ts';

export interface VersionSigner {
  readonly keyId: string;
  readonly keyVersionId: string;
  readonly key: CsrKey;
  readonly sign: DigestSigner;
}

/** A key version as an X.509 signer: checked as AsymmetricSign checks it; signatures from the key worker. */
export function versionSigner(vault: Vault, req: { KeyId: string; KeyVersionId: string; Algorithm?: string | undefined }, ctx: CallContext): VersionSigner {
  const key = resolveKey(vault, req.KeyId, ctx);
  assertSignsCertificates(key);
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
      // Called after the CSR/certificate code has awaited (digests, the CSR's own check): a key
      // worker that restarted meanwhile starts locked, and a keychain vault unlocks it again here;
      // a vault locked meanwhile answers Vault.Locked rather than the worker's refusal.
      await vault.ensureUnlocked();
      return decodeBase64((await vault.worker.request({ op: 'sign', key: ref, algorithm, digest })).signature, 'signature');
    },
  };
}

/** PEM CERTIFICATE blocks, each strictly parsed. */
export function readChain(text: string, parameter: string): Uint8Array[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw invalidParameter(parameter, 'holds no PEM CERTIFICATE');
  return blocks.map((block) => {
    const der = decodePem(block, 'CERTIFICATE', parameter);
    parseCertificate(der);
    return der;
  });
}

export function validity(vault: Vault, days: number): { notBefore: Date; notAfter: Date } {
  const now = vault.now();
  return { notBefore: now, notAfter: new Date(now.getTime() + days * 86_400_000) };
}

/** Attaches `chain` to the version inside the write, refusing if the version vanished. */
export function attachWrite(vault: Vault, keyId: string, keyVersionId: string, chain: readonly Uint8Array[]) {
  const pem = chain.map(certificatePem).join('');
  return (db: Db): void => {
    if (!getVersion(db, keyId, keyVersionId)) throw new KmsError('Forbidden.KeyNotFound', `key version ${keyVersionId} does not exist for key ${keyId}`);
    attachChain(db, keyVersionId, pem, kmsDate(vault.now()));
  };
}
