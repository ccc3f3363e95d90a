// deskkms pubkey KEY --version V --bundle DIR: a key version's public key in every format people
// publish (SPKI PEM/DER, JWK, OpenSSH) with fingerprints and a manifest, written atomically.
import { resolve } from 'node:path';
import { KmsError, missingParameter } from '../../../contract/errors.ts';
import { isKeySpec } from '../../../contract/specs.ts';
import { importPublicKey } from '../../../crypto/engine.ts';
import { writeBundle } from '../../../x509/bundle-writer.ts';
import { publicKeyFormats } from '../../../x509/public-bundle.ts';
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
      // One Action (audited) gives the public key and any attached certificate chain.
      const body = await callAction(vault, 'GetPublicKeyBundle', { KeyId: keyRef, KeyVersionId: flags.version });
      const publicKey = importPublicKey(body.PublicKeyPem as string);
      if (!isKeySpec(publicKey.spec)) throw new KmsError('InternalFailure', 'unknown key spec');
      const chain = typeof body.CertificateChain === 'string' ? body.CertificateChain : undefined;
      const bundle = publicKeyFormats(publicKey.spki, {
        keyId: body.KeyId as string,
        keyVersionId: body.KeyVersionId as string,
        spec: publicKey.spec,
        ...(chain ? { certificateChain: chain } : {}),
      });
      const written = await writeBundle(bundleDir, bundle);
      io.stdout.write(`${JSON.stringify({ Bundle: bundleDir, Files: written, Manifest: bundle.manifest }, null, 2)}\n`);
      return EXIT_OK;
    });
  },
};
