// GetPublicKeyBundle (DeskKMS extension, `deskkms pubkey`): a version's public key in every format
// (PEM, DER, JWK, OpenSSH), its fingerprints, and the certificate chain attached to it.
import { encodeBase64 } from '../contract/base64.ts';
import { KmsError } from '../contract/errors.ts';
import { attachedChain } from '../vault/records.ts';
import { publicKeyFormats, type BundleManifest } from '../x509/public-bundle.ts';
import type { Handler } from './operation.ts';
import { publicKeyOf, resolveKey, resolveVersion } from './targets.ts';

function omissions(formats: BundleManifest['formats']): { Jwk?: string; OpenSsh?: string } {
  const jwk = formats.jwk;
  const ssh = formats.openssh;
  return { ...('omitted' in jwk ? { Jwk: jwk.reason } : {}), ...('omitted' in ssh ? { OpenSsh: ssh.reason } : {}) };
}

export const getPublicKeyBundle: Handler<'GetPublicKeyBundle'> = (vault, req, ctx) => {
  const key = resolveKey(vault, req.KeyId, ctx);
  const version = resolveVersion(vault, key, req.KeyVersionId, ctx);
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
};
