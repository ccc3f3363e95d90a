// deskkms pubkey KEY --version V --bundle DIR: a key version's public key in every format people
// publish (SPKI PEM/DER, JWK, OpenSSH) with fingerprints and a manifest, written atomically.
// deskkms pubkey KEY [--version V] --format F: one of them, or a form that names its holder: an
// allowed_signers line (ssh-keygen, git) or an OpenPGP certificate (gpg, sq), self-signed by the
// version through AsymmetricSign (audited as "cli:openpgp").
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { decodeBase64 } from '../../../contract/base64.ts';
import { KmsError, invalidParameter, missingParameter } from '../../../contract/errors.ts';
import { isKeySpec } from '../../../contract/specs.ts';
import type { ActionResponse } from '../../../contract/responses.ts';
import { writeBundle } from '../../../x509/bundle-writer.ts';
import { assembleBundle } from '../../../x509/public-bundle.ts';
import { EXIT_OK, type CliIO, type Command, type FlagValues } from '../command.ts';
import { beginCertificate, openpgpFingerprint } from '../../../formats/openpgp.ts';
import { allowedSignersLine, sshFingerprint } from '../../../formats/sshsig.ts';
import { chooseSigningKey, completeSignature } from '../../../actions/format-signing.ts';
import { writeFileAtomically } from '../output-file.ts';
import { internalErrorReporter } from '../report-error.ts';
import { CLI_CALLER, callAction } from '../actions-cli.ts';
import type { Vault } from '../../../vault/vault.ts';
import { VAULT_FLAGS, withVault } from '../vault-session.ts';
import { ageRecipient } from './age.ts';

const PUBLIC_FORMATS = ['pem', 'openssh', 'jwk', 'allowed-signers', 'openpgp', 'age-recipient'] as const;
type PublicFormat = (typeof PUBLIC_FORMATS)[number];

/** One public form of the version, as text. */
async function publicText(vault: Vault, io: CliIO, flags: FlagValues, keyRef: string, format: PublicFormat): Promise<{ text: string; keyId: string; keyVersionId: string; fingerprint?: string }> {
  // age recipients name encryption keys (symmetric ones too), not signing keys.
  if (format === 'age-recipient') return ageRecipient(io, vault, keyRef, typeof flags.version === 'string' ? flags.version : undefined);
  const signer = { vault, caller: CLI_CALLER, dispatchOptions: { onInternalError: internalErrorReporter(io) } };
  const key = await chooseSigningKey(signer, keyRef, typeof flags.version === 'string' ? flags.version : undefined, { forSigning: format === 'openpgp' });
  if (key.newest) io.stderr.write(`deskkms: key ${key.keyId} version ${key.keyVersionId} (its newest; give --version to choose)\n`);
  const ids = { keyId: key.keyId, keyVersionId: key.keyVersionId };
  if (format === 'allowed-signers') {
    if (typeof flags.principal !== 'string') throw missingParameter('--principal');
    const namespaces = typeof flags.namespaces === 'string' ? flags.namespaces.split(',') : undefined;
    return { text: `${allowedSignersLine(key.spki, flags.principal, namespaces ? { namespaces } : {})}\n`, fingerprint: sshFingerprint(key.spki), ...ids };
  }
  if (format === 'openpgp') {
    if (typeof flags['user-id'] !== 'string') throw missingParameter('--user-id');
    // The self-signature is dated at the version's creation, like its key packet: a certificate
    // exported today then binds signatures made before today too (sq refuses a signature older
    // than the binding signature it finds).
    const pending = beginCertificate(key, flags['user-id'], { time: key.created });
    return { text: new TextDecoder().decode(await completeSignature(signer, key, 'openpgp', pending)), fingerprint: openpgpFingerprint(key), ...ids };
  }
  const body = (await callAction(io, vault, 'GetPublicKeyBundle', { KeyId: key.keyId, KeyVersionId: key.keyVersionId })) as unknown as ActionResponse<'GetPublicKeyBundle'>;
  if (format === 'pem') return { text: body.PublicKeyPem, ...ids };
  if (format === 'jwk') {
    if (!body.Jwk) throw new KmsError('Format.UnsupportedKeySpec', `a ${body.KeySpec} key has no JWK form: ${body.Omitted.Jwk ?? 'no JWK curve'}`);
    return { text: `${JSON.stringify(body.Jwk, null, 2)}\n`, ...ids };
  }
  if (body.OpenSsh === undefined) throw new KmsError('Format.UnsupportedKeySpec', `a ${body.KeySpec} key has no OpenSSH form: ${body.Omitted.OpenSsh ?? 'no OpenSSH key type'}`);
  return { text: `${body.OpenSsh.trimEnd()}\n`, ...(body.Fingerprints.OpenSsh !== undefined ? { fingerprint: body.Fingerprints.OpenSsh } : {}), ...ids };
}

async function writeBundleOf(vault: Vault, io: CliIO, keyRef: string, version: string, bundleDir: string): Promise<number> {
  // One Action (audited) answers every format, the fingerprints and any attached certificate
  // chain; the bundle is written from that answer as it stands (no key is parsed here).
  const body = (await callAction(io, vault, 'GetPublicKeyBundle', { KeyId: keyRef, KeyVersionId: version })) as unknown as ActionResponse<'GetPublicKeyBundle'>;
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
}

export const pubkeyCommand: Command = {
  name: 'pubkey',
  usage: 'deskkms pubkey KEY --version V --bundle DIR | deskkms pubkey KEY [--version V] --format pem|openssh|jwk|allowed-signers|openpgp|age-recipient [--principal ID] [--user-id UID] [-o FILE]',
  flags: {
    ...VAULT_FLAGS,
    version: { type: 'string', value: 'V', description: "the KeyVersionId (required with --bundle; with --format, default the key's newest version)" },
    bundle: { type: 'string', value: 'DIR', description: 'a new or empty directory to write the bundle into' },
    format: { type: 'string', value: 'FORMAT', description: `one public form instead of a bundle: ${PUBLIC_FORMATS.join(', ')}` },
    principal: { type: 'string', value: 'ID', description: 'allowed-signers: the signer identity (an e-mail address, as git\'s user.email)' },
    namespaces: { type: 'string', value: 'LIST', description: 'allowed-signers: restrict the key to these namespaces (e.g. git,file)' },
    'user-id': { type: 'string', value: 'UID', description: 'openpgp: the certificate\'s User ID, e.g. "Release Team <release@example.org>"' },
    out: { type: 'string', value: 'FILE', short: 'o', description: 'with --format: write to FILE (whole or not at all) instead of stdout' },
    force: { type: 'boolean', description: 'with -o: replace an existing FILE (a published certificate or allowed_signers file is kept otherwise)' },
  },
  positionals: ['KEY'],
  details:
    'Formats a spec has no standard for are omitted with the reason in manifest.json (SM2: no JWK/OpenSSH; secp256k1: no OpenSSH), and refused with --format (Format.UnsupportedKeySpec). ' +
    'A certificate chain attached to the version (deskkms cert attach / self-sign) is written as <KeyVersionId>.chain.pem. ' +
    "--format openpgp signs the certificate with the version itself (so the key must be Enabled); the key packet's creation time is the version's CreationDate, so its fingerprint is the same in every export.",
  async run(flags, io, positionals = []) {
    const keyRef = positionals[0];
    if (!keyRef || positionals.length > 1) throw missingParameter('KEY');
    if ((typeof flags.bundle === 'string') === (typeof flags.format === 'string')) throw invalidParameter('--bundle/--format', 'give exactly one of --bundle DIR or --format FORMAT');
    if (typeof flags.bundle === 'string') {
      if (typeof flags.version !== 'string') throw missingParameter('--version');
      const bundleDir = resolve(io.cwd, flags.bundle);
      const version = flags.version;
      return withVault(flags, io, (vault) => writeBundleOf(vault, io, keyRef, version, bundleDir));
    }
    const format = flags.format as string;
    if (!(PUBLIC_FORMATS as readonly string[]).includes(format)) throw invalidParameter('--format', `${format} is not a public key format; valid: ${PUBLIC_FORMATS.join(', ')}`);
    const target = typeof flags.out === 'string' ? resolve(io.cwd, flags.out) : undefined;
    const refuseExisting = (path: string) => invalidParameter('--out', `${path} already exists; give --force to replace it, or -o another file`);
    if (target !== undefined && flags.force !== true && existsSync(target)) throw refuseExisting(target); // before anything is signed
    return withVault(flags, io, async (vault) => {
      const { text, keyId, keyVersionId, fingerprint } = await publicText(vault, io, flags, keyRef, format as PublicFormat);
      if (target === undefined) {
        io.stdout.write(text);
        return EXIT_OK;
      }
      await writeFileAtomically(target, text, { mode: 0o644, replace: flags.force === true, exists: refuseExisting });
      io.stdout.write(`${JSON.stringify({ File: target, Format: format, KeyId: keyId, KeyVersionId: keyVersionId, ...(fingerprint !== undefined ? { Fingerprint: fingerprint } : {}) }, null, 2)}\n`);
      return EXIT_OK;
    });
  },
};
