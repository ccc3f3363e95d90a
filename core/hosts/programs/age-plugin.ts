// age-plugin-deskkms: age's plugin for DeskKMS keys (C2SP age-plugin; formats in
// core/formats/age-deskkms.ts). age finds it on PATH by a recipient "age1deskkms1..." or an
// identity "AGE-PLUGIN-DESKKMS-1..." and runs it with --age-plugin=recipient-v1 (wrap file keys)
// or --age-plugin=identity-v1 (unwrap them), speaking stanzas over stdin and stdout.
//   recipient-v1: RSA recipients wrap with the public key they carry (no vault); symmetric ones
//     through the vault's Encrypt. Identities cannot be encrypted to (error identity: use the
//     recipient, `deskkms pubkey KEY --format age-recipient`).
//   identity-v1: each "deskkms" stanza naming an identity's key is unwrapped by the vault: Decrypt
//     (symmetric) or AsymmetricDecrypt (RSA), audited with caller "age-plugin". A refusal (a
//     disabled key, a locked vault) is "error identity" with the vault's Code and message, so age
//     stops and says why; a stanza of our type that is malformed is "error stanza".
// The vault is opened only when a key of it is needed, as every deskkms program opens it
// ($DESKKMS_VAULT, $DESKKMS_PASSPHRASE_FILE).
import { constants, createPublicKey, publicEncrypt } from 'node:crypto';
import { isMainModule } from './is-main.ts';
import { KmsError, toKmsError } from '../../contract/errors.ts';
import { AGE_CONTEXT, STANZA_TYPE, decodeIdentity, decodeRecipient, stanzaTarget, type AgeRecipient } from '../../formats/age-deskkms.ts';
import { StanzaReader, encodeStanza, type Stanza } from '../../formats/age-stanza.ts';
import type { Vault } from '../../vault/vault.ts';
import type { CliIO } from '../cli/command.ts';

const CALLER = 'age-plugin';
const FILE_KEY_BYTES = 16;

/** The vault, opened at first need and closed at the end of the run. */
class LazyVault {
  private opened: Promise<{ vault: Vault; close: () => Promise<void> }> | undefined;
  private readonly io: CliIO;
  constructor(io: CliIO) {
    this.io = io;
  }

  async call(action: 'Encrypt' | 'Decrypt' | 'AsymmetricDecrypt', params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { vault } = await (this.opened ??= this.open());
    const { dispatch } = await import('../../actions/dispatch.ts');
    const outcome = await dispatch(vault, action, params, CALLER);
    if (!outcome.ok) throw new KmsError(outcome.error.Code, outcome.error.Message);
    return outcome.body;
  }

  private async open(): Promise<{ vault: Vault; close: () => Promise<void> }> {
    // The key worker loads on the other core while this thread loads the vault's modules.
    await (await import('../cli/early-worker.ts')).prestartVaultWorker(this.io);
    const { withVault } = await import('../cli/vault-session.ts');
    // withVault runs a callback: hold it open until close() releases it.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    return new Promise((resolve, reject) => {
      const done = withVault({}, this.io, (vault) => {
        resolve({ vault, close: async () => { release(); await done; } });
        return held;
      });
      done.catch(reject);
    });
  }

  /** Closes the vault if it opened; one that failed to open was reported to age where it was asked for. */
  async close(): Promise<void> {
    await this.opened?.then(
      (opened) => opened.close().catch(() => undefined),
      () => undefined,
    );
  }
}

class Session {
  private readonly reader: StanzaReader;
  private readonly io: CliIO;
  constructor(reader: StanzaReader, io: CliIO) {
    this.reader = reader;
    this.io = io;
  }

  send(type: string, args: readonly string[], body?: Uint8Array): void {
    this.io.stdout.write(encodeStanza(type, args, body));
  }

  /** A phase-2 command and age's answer to it (ok, fail or unsupported). */
  async ask(type: string, args: readonly string[], body?: Uint8Array): Promise<Stanza> {
    this.send(type, args, body);
    const answer = await this.reader.next();
    if (!answer) throw new KmsError('Format.Malformed', `age closed the connection instead of answering ${type}`);
    return answer;
  }

  async error(args: readonly string[], message: string): Promise<void> {
    await this.ask('error', args, new TextEncoder().encode(message));
  }

  /** Phase 1: every stanza up to "done". */
  async phaseOne(): Promise<Stanza[]> {
    const out: Stanza[] = [];
    for (;;) {
      const s = await this.reader.next();
      if (!s) throw new KmsError('Format.Malformed', 'age ended the input before "done"');
      if (s.type === 'done') return out;
      out.push(s);
    }
  }
}

function messageOf(error: unknown): string {
  const e = toKmsError(error);
  return `DeskKMS: ${e.code}: ${e.message}`;
}

async function wrap(session: Session, vault: LazyVault): Promise<void> {
  const recipients: AgeRecipient[] = [];
  const fileKeys: Uint8Array[] = [];
  const errors: { args: string[]; message: string }[] = [];
  let identities = 0;
  for (const s of await session.phaseOne()) {
    if (s.type === 'add-recipient') {
      try {
        recipients.push(decodeRecipient(s.args[0] ?? ''));
      } catch (error) {
        errors.push({ args: ['recipient', String(recipients.length + errors.length)], message: messageOf(error) });
        recipients.push({ kind: 'kms', keyId: '' });
      }
    } else if (s.type === 'add-identity') {
      errors.push({ args: ['identity', String(identities++)], message: 'DeskKMS: encrypt to the recipient of the key (deskkms pubkey KEY --format age-recipient), not to its identity' });
    } else if (s.type === 'wrap-file-key') {
      fileKeys.push(s.body);
    }
    // Other phase-1 commands (extensions of later age versions) are ignored.
  }
  const stanzas: { file: number; args: string[]; body: Uint8Array }[] = [];
  if (errors.length === 0) {
    try {
      for (const [file, key] of fileKeys.entries()) {
        if (key.length !== FILE_KEY_BYTES) throw new KmsError('Format.Malformed', `a file key of ${key.length} bytes (age's are ${FILE_KEY_BYTES})`);
        for (const r of recipients) {
          if (r.kind === 'rsa') {
            const wrapped = publicEncrypt({ key: createPublicKey({ key: Buffer.from(r.spki), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, key);
            stanzas.push({ file, args: [STANZA_TYPE, 'rsa', r.keyId, r.keyVersionId], body: new Uint8Array(wrapped) });
          } else {
            const out = await vault.call('Encrypt', { KeyId: r.keyId, Plaintext: Buffer.from(key).toString('base64'), EncryptionContext: AGE_CONTEXT });
            stanzas.push({ file, args: [STANZA_TYPE, 'kms', r.keyId], body: new Uint8Array(Buffer.from(out.CiphertextBlob as string, 'base64')) });
          }
        }
      }
    } catch (error) {
      errors.push({ args: ['internal'], message: messageOf(error) });
    }
  }
  // Errors, or else every stanza: never both (the spec).
  if (errors.length > 0) for (const e of errors) await session.error(e.args, e.message);
  else for (const s of stanzas) await session.ask('recipient-stanza', [String(s.file), ...s.args], s.body);
  session.send('done', []);
}

async function unwrap(session: Session, vault: LazyVault): Promise<void> {
  const identities: { keyId: string }[] = [];
  const errors: { args: string[]; message: string }[] = [];
  const byFile = new Map<number, { index: number; stanza: Stanza }[]>();
  for (const s of await session.phaseOne()) {
    if (s.type === 'add-identity') {
      try {
        identities.push(decodeIdentity(s.args[0] ?? ''));
      } catch (error) {
        errors.push({ args: ['identity', String(identities.length)], message: messageOf(error) });
        identities.push({ keyId: '' });
      }
    } else if (s.type === 'recipient-stanza') {
      const file = Number(s.args[0]);
      const list = byFile.get(file) ?? [];
      list.push({ index: list.length, stanza: { type: s.args[1] ?? '', args: s.args.slice(2), body: s.body } });
      byFile.set(file, list);
    }
  }
  // Invalid identities: errors, and no unwrapping with the others (the spec).
  if (errors.length > 0) {
    for (const e of errors) await session.error(e.args, e.message);
    session.send('done', []);
    return;
  }
  for (const [file, stanzas] of byFile) {
    const ours = stanzas.filter((s) => s.stanza.type === STANZA_TYPE);
    const bad = ours.find((s) => !stanzaTarget(s.stanza.args));
    if (bad) {
      await session.error(['stanza', String(file), String(bad.index)], 'DeskKMS: a deskkms stanza with malformed arguments (the file header is damaged)');
      continue;
    }
    for (const { stanza } of ours) {
      const target = stanzaTarget(stanza.args)!;
      const identity = identities.findIndex((i) => i.keyId === target.keyId);
      if (identity < 0) continue;
      try {
        const answer =
          target.kind === 'kms'
            ? await vault.call('Decrypt', { CiphertextBlob: Buffer.from(stanza.body).toString('base64'), EncryptionContext: AGE_CONTEXT })
            : await vault.call('AsymmetricDecrypt', { KeyId: target.keyId, KeyVersionId: target.keyVersionId, Algorithm: 'RSAES_OAEP_SHA_256', CiphertextBlob: Buffer.from(stanza.body).toString('base64') });
        if (answer.KeyId !== target.keyId) throw new KmsError('InvalidCiphertext', `the stanza names key ${target.keyId} but its ciphertext is of key ${String(answer.KeyId)}`);
        const fileKey = Buffer.from(answer.Plaintext as string, 'base64');
        if (fileKey.length !== FILE_KEY_BYTES) throw new KmsError('InvalidCiphertext', 'the unwrapped file key is not 16 bytes');
        await session.ask('file-key', [String(file)], fileKey);
        fileKey.fill(0);
        break;
      } catch (error) {
        await session.error(['identity', String(identity)], messageOf(error));
        break;
      }
    }
  }
  session.send('done', []);
}

export async function runAgePlugin(argv: readonly string[], io: CliIO): Promise<number> {
  const mode = argv.find((a) => a.startsWith('--age-plugin='))?.slice('--age-plugin='.length);
  if (mode !== 'recipient-v1' && mode !== 'identity-v1') {
    io.stderr.write('age-plugin-deskkms is run by age (age -r age1deskkms1... or age -d -i IDENTITY_FILE): it takes --age-plugin=recipient-v1 or --age-plugin=identity-v1\n');
    return 2;
  }
  const session = new Session(new StanzaReader(io.stdin), io);
  const vault = new LazyVault(io);
  try {
    if (mode === 'recipient-v1') await wrap(session, vault);
    else await unwrap(session, vault);
    return 0;
  } catch (error) {
    io.stderr.write(`age-plugin-deskkms: ${messageOf(error)}\n`);
    return 1;
  } finally {
    await vault.close();
  }
}

if (isMainModule(import.meta.filename)) {
  process.exitCode = await runAgePlugin(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, cwd: process.cwd(), env: process.env });
  // stdin stays open (age keeps the pipe): end the process once the session is done.
  process.stdout.end(() => process.exit(process.exitCode));
}
