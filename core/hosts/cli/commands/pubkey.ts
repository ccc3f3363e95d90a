// deskkms pubkey KEY --version V --bundle DIR: a key version's public key in every format people
// publish (SPKI PEM/DER, JWK, OpenSSH) with fingerprints and a manifest, written atomically.
import { resolve } from 'node:path';
import { decodeBase64 } from '../../../contract/base64.ts';
import { KmsError, missingParameter } from '../../../contract/errors.ts';
import { isKeySpec } from '../../../contract/specs.ts';
import type { ActionResponse } from '../../../contract/responses.ts';
import { writeBundle } from '../../../x509/bundle-writer.ts';
import { assembleBundle } from '../../../x509/public-bundle.ts';
import { EXIT_OK, type Command } from '../command.ts';
import { callAction } from '../actions-cli.ts';
import { VAULT_FLAGS, withVault } from '../vault-session.ts';

export const pubkeyCommand: Command = {
  name: 'pubkey',
  summary: 'Write a public-key bundle of a key version: PEM, DER, JWK, OpenSSH, fingerprints, attached certificate chain, manifest',
  usage: 'deskkms pubkey KEY --version V --bundle DIR',
  flags: {
    ...VAULT_FLAGS,
    version: { type: 'string', value: 'V', required: true, description: 'the KeyVersionId' },
    bundle: { type: 'string', value: 'DIR', required: true, description: 'a new or empty directory to write the bundle into' },
  },
  positionals: ['KEY'],
  details:
    'Formats a spec has no standard for are omitted with the reason in manifest.json (SM2: no JWK/OpenSSH; secp256k1: no OpenSSH). ' +
    'A certificate chain attached to the version (deskkms cert attach / self-sign) is written as <KeyVersionId>.chain.pem.',
  async run(flags, io, positionals = []) {
    const keyRef = positionals[0];
    if (!keyRef || positionals.length > 1) throw missingParameter('KEY');
    if (typeof flags.version !== 'string') throw missingParameter('--version');
    if (typeof flags.bundle !== 'string') throw missingParameter('--bundle');
    const bundleDir = resolve(io.cwd, flags.bundle);
    return withVault(flags, io, async (vault) => {
      // One Action (audited) answers every format, the fingerprints and any attached certificate
      // chain; the bundle is written from that answer as it stands (no key is parsed here).
      const body = (await callAction(io, vault, 'GetPublicKeyBundle', { KeyId: keyRef, KeyVersionId: flags.version })) as unknown as ActionResponse<'GetPublicKeyBundle'>;
      if (!isKeySpec(body.KeySpec)) throw new KmsError('InternalFailure', 'GetPublicKeyBundle answered an unknown KeySpec');
      const bundle = assembleBundle({
        keyId: body.KeyId,
        keyVersionId: body.KeyVersionId,
        spec: body.KeySpec,
        pem: body.PublicKeyPem,
        der: decodeBase64(body.PublicKeyDer, 'PublicKeyDer'),
        ...(body.Jwk ? { jwk: body.Jwk } : {}),
        ...(body.OpenSsh !== undefined ? { openssh: body.OpenSsh } : {}),
        fingerprints: {
          spkiSha256Hex: body.Fingerprints.SpkiSha256Hex,
          spkiSha256Base64: body.Fingerprints.SpkiSha256Base64,
          ...(body.Fingerprints.OpenSsh !== undefined ? { openssh: body.Fingerprints.OpenSsh as `SHA256:${string}` } : {}),
        },
        omitted: { ...(body.Omitted.Jwk !== undefined ? { jwk: body.Omitted.Jwk } : {}), ...(body.Omitted.OpenSsh !== undefined ? { openssh: body.Omitted.OpenSsh } : {}) },
        ...(body.CertificateChain !== undefined ? { certificateChain: body.CertificateChain } : {}),
      });
      const written = await writeBundle(bundleDir, bundle);
      io.stdout.write(`${JSON.stringify({ Bundle: bundleDir, Files: written, Manifest: bundle.manifest }, null, 2)}\n`);
      return EXIT_OK;
    });
  },
};
