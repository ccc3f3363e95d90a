// Public-key, CSR and certificate Actions (DeskKMS extensions, issue 5): the operations behind
// `deskkms pubkey`, `deskkms csr` and `deskkms cert`, as Actions so that batch, the API and the
// desktop app reach them through the same handler table.
import type { ActionName } from '../contract/actions.ts';
import { encodeBase64 } from '../contract/base64.ts';
import { KmsError } from '../contract/errors.ts';
import { importPublicKey } from '../crypto/engine.ts';
import { publicKeyFormats } from '../x509/public-bundle.ts';
import type { Handler } from './dispatch.ts';
import { resolve } from './key-handlers.ts';

type X509Action = Extract<ActionName, 'GetPublicKeyBundle'>;

export const X509_HANDLERS: { readonly [A in X509Action]: Handler<A> } = {
  GetPublicKeyBundle(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    const version = vault.resolveVersion(key, req.KeyVersionId);
    ctx.keyVersionId = version.key_version_id;
    const publicKey = importPublicKey(version.public_key);
    if (publicKey.spec !== key.key_spec) throw new KmsError('Vault.Corrupt', `key version ${version.key_version_id} holds a ${publicKey.spec} key, its key is ${key.key_spec}`);
    const bundle = publicKeyFormats(publicKey.spki, { keyId: key.key_id, keyVersionId: version.key_version_id, spec: key.key_spec });
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
      },
    });
  },
};
