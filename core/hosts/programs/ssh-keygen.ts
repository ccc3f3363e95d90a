// deskkms-ssh-keygen: the program git calls as gpg.ssh.program (gpg.format=ssh). It signs with a
// vault key and hands everything else to the real ssh-keygen:
//
//   -Y sign -n NAMESPACE -f KEYFILE [-U] [-q] [-O hashalg=sha512] [FILE ...]
//       KEYFILE is the OpenSSH public key the vault exported (the bundle's .pub, or the temporary
//       file git writes for a `key::` literal user.signingKey; an SPKI PEM is taken too). The vault
//       key version with that public key signs FILE into FILE.sig (armored SSHSIG, as ssh-keygen
//       writes it), or standard input to standard output when FILE is "-" or absent. -U (git
//       passes it for a literal key: "the key is in the agent") is accepted: the vault is the agent.
//       The signature is one AsymmetricSign through the handler table, audited as "ssh-keygen:ssh";
//       when a running DeskKMS agent serves the vault and that key version, through the agent
//       (audited "ssh-agent[PROGRAM PID]:ssh-keygen:ssh"), else the vault is opened.
//   anything else (-Y verify, -Y find-principals, -Y check-novalidate, -l, ...)
//       runs the real ssh-keygen with the same arguments and stdio; its exit status is returned.
//       The real one is $DESKKMS_SSH_KEYGEN, else the first ssh-keygen in an absolute PATH
//       directory that is not this program; a wrapper that loops back is detected (hand-over.ts).
//
// The vault is opened as the CLI opens it ($DESKKMS_VAULT, $DESKKMS_PASSPHRASE_FILE). Exit
// status as ssh-keygen's: 0 signed, 255 failure (the error on stderr as {"Code","Message"}), 1 for
// a missing namespace or key file.
import { createReadStream, existsSync, readSync, statSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { KmsError, invalidParameter } from '../../contract/errors.ts';
import { escapeText } from '../../contract/escape-text.ts';
import type { CliIO } from '../cli/command.ts';
import { writeFailure } from '../cli/report-error.ts';
import { handOver, type HandOverTarget } from './hand-over.ts';

// Signing needs the handler table, the vault and the formats; handing over needs none of them, and
// git hands over twice per verification: those modules are loaded only to sign.
const signingModules = async () => {
  const [signing, sshsig, publicKey, session, output, signerSession] = await Promise.all([
    import('../../actions/format-signing.ts'),
    import('../../formats/sshsig.ts'),
    import('../../crypto/public-key.ts'),
    import('../cli/vault-session.ts'),
    import('../cli/output-file.ts'),
    import('../cli/signer-session.ts'),
  ]);
  return { ...signing, ...sshsig, ...publicKey, ...session, ...output, ...signerSession };
};
type SigningModules = Awaited<ReturnType<typeof signingModules>>;

const PROGRAM = 'deskkms-ssh-keygen';
const EXIT_FAILURE = 255;
/** Where everything but signing goes: the real ssh-keygen (core/hosts/programs/hand-over.ts). */
export const SSH_KEYGEN: HandOverTarget = { program: PROGRAM, module: import.meta.filename, names: ['ssh-keygen'], envVar: 'DESKKMS_SSH_KEYGEN', failureStatus: EXIT_FAILURE };
const MAX_KEY_FILE = 64 << 10;

// ssh-keygen's getopt string (OpenSSH 9.x): flags, and options that take an argument.
const FLAGS = new Set('ABHKLQUXceghiklopquvy');
const WITH_ARGUMENT = new Set('CDEFIMNOPRVYZabfgmnrstwz');

interface ParsedArgs {
  readonly op?: string;
  readonly namespace?: string;
  readonly keyFile?: string;
  readonly options: string[];
  readonly quiet: boolean;
  readonly files: string[];
}

/** POSIX getopt over ssh-keygen's option string; undefined when the arguments are not ones it would take. */
function parseArgs(argv: readonly string[]): ParsedArgs | undefined {
  let op: string | undefined;
  let namespace: string | undefined;
  let keyFile: string | undefined;
  let quiet = false;
  const options: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j]!;
      if (FLAGS.has(letter)) {
        if (letter === 'q') quiet = true;
        continue;
      }
      if (!WITH_ARGUMENT.has(letter)) return undefined;
      let value: string | undefined = arg.slice(j + 1);
      if (value === '') value = argv[++i];
      if (value === undefined) return undefined;
      if (letter === 'Y') op = value;
      else if (letter === 'n') namespace = value;
      else if (letter === 'f') keyFile = value;
      else if (letter === 'O') options.push(value);
      break;
    }
  }
  return { ...(op !== undefined ? { op } : {}), ...(namespace !== undefined ? { namespace } : {}), ...(keyFile !== undefined ? { keyFile } : {}), options, quiet, files: argv.slice(i) };
}

/** The public key in KEYFILE (an OpenSSH line or SPKI PEM), else in KEYFILE.pub, as ssh-keygen looks. */
async function readKeyFile(m: SigningModules, path: string): Promise<{ spki: Uint8Array; fingerprint: string }> {
  const tried: string[] = [];
  for (const candidate of [path, `${path}.pub`]) {
    let bytes: Buffer;
    try {
      const stats = await fs.stat(candidate);
      if (!stats.isFile() || stats.size > MAX_KEY_FILE) {
        tried.push(`${escapeText(candidate, 256)}: not a public key file`);
        continue;
      }
      bytes = await fs.readFile(candidate);
    } catch (error) {
      tried.push(`${escapeText(candidate, 256)}: ${escapeText((error as NodeJS.ErrnoException).code ?? 'unreadable', 32)}`);
      continue;
    }
    const text = bytes.toString('utf8');
    try {
      const spki = text.includes('-----BEGIN PUBLIC KEY-----') ? m.importPublicKey(text, 'KEYFILE').spki : m.readSshPublicKey(text, `the key file ${escapeText(candidate, 256)}`).key.spki;
      return { spki, fingerprint: m.sshFingerprint(spki) };
    } catch (error) {
      if (!(error instanceof KmsError)) throw error;
      tried.push(error.message);
    }
  }
  throw new KmsError('Format.Malformed', `-f ${escapeText(path, 256)} names no OpenSSH public key a vault key could have (${tried.join('; ')}); give the .pub DeskKMS exported or a key:: literal`);
}

/** ssh-keygen's confirm_overwrite: asks on stdout, reads the answer from standard input. */
function confirmOverwrite(target: string, io: CliIO): boolean {
  if (!existsSync(target)) return true;
  io.stdout.write(`${escapeText(target, 256)} already exists.\nOverwrite (y/n)? `);
  const answer = Buffer.alloc(3);
  let read: number;
  try {
    read = readSync(0, answer, 0, answer.length, null);
  } catch {
    read = 0;
  }
  return read > 0 && (answer[0] === 0x79 || answer[0] === 0x59);
}

async function sign(args: ParsedArgs, io: CliIO): Promise<number> {
  if (args.namespace === undefined || args.namespace === '') {
    io.stderr.write('Too few arguments for sign: missing namespace\n');
    return 1;
  }
  if (args.keyFile === undefined) {
    io.stderr.write('Too few arguments for sign: missing key\n');
    return 1;
  }
  for (const option of args.options) {
    if (option.toLowerCase() !== 'hashalg=sha512') {
      io.stderr.write(`Invalid option "${escapeText(option, 128)}": ${PROGRAM} signs with hashalg=sha512 only\n`);
      return EXIT_FAILURE;
    }
  }
  if (args.files.includes('-') && args.files.length > 1) {
    io.stderr.write('Cannot sign mix of paths and standard input\n');
    return EXIT_FAILURE;
  }
  const keyFile = args.keyFile;
  const namespace = args.namespace;
  try {
    // Its key worker loads on the other core while this thread loads the signing modules.
    await (await import('../cli/early-worker.ts')).prestartUnlessAgent(io);
    const m = await signingModules();
    const namespaceOk = m.assertNamespace(namespace, '-n');
    const { spki, fingerprint } = await readKeyFile(m, resolve(io.cwd, keyFile));
    return await m.withSigner({}, io, 'ssh-keygen', async (signer) => {
      // Not among the agent's keys: Agent.KeyNotAdded, and the vault is opened and searched instead.
      const found = await m.findSigningKeys(signer, (k) => k.spki.length === spki.length && k.spki.every((b, i) => b === spki[i]), `the public key ${fingerprint}`);
      const key = found[0];
      if (found.length > 1) {
        // The same material in several keys (BYOK): which key's state, policy and audit entry sign must not be left to chance.
        throw invalidParameter(
          '-f',
          `${escapeText(keyFile, 256)}: the public key ${fingerprint} belongs to ${found.length} key versions in the vault (KeyIds ${found.map((k) => `${k.keyId} version ${k.keyVersionId}`).join(', ')}); disable all but the one that should sign`,
        );
      }
      if (!key) {
        throw new KmsError(
          'Forbidden.KeyNotFound',
          `no Enabled SIGN/VERIFY key version with sealed key material in the vault ${m.vaultDirOf({}, io)} has the public key ${fingerprint} (-f ${escapeText(keyFile, 256)})`,
        );
      }
      const signOne = async (input: AsyncIterable<Uint8Array>): Promise<Uint8Array> => {
        const pending = m.beginSignature(key, 'ssh', { namespace: namespaceOk });
        for await (const chunk of input) pending.update(chunk);
        return m.completeSignature(signer, key, 'ssh', pending);
      };
      if (args.files.length === 0 || args.files[0] === '-') {
        if (!args.quiet) io.stderr.write('Signing data on standard input\n');
        io.stdout.write(await signOne(io.stdin as AsyncIterable<Uint8Array>));
        return 0;
      }
      for (const file of args.files) {
        const path = resolve(io.cwd, file);
        if (!args.quiet) io.stderr.write(`Signing file ${escapeText(file, 256)}\n`);
        let signature: Uint8Array;
        try {
          if (!statSync(path).isFile()) throw invalidParameter('FILE', `${escapeText(file, 256)} is not a regular file`);
          signature = await signOne(createReadStream(path));
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (typeof code === 'string' && !(error instanceof KmsError)) throw invalidParameter('FILE', `Cannot open ${escapeText(file, 256)} for signing: ${code}`);
          throw error;
        }
        const target = `${path}.sig`;
        if (!confirmOverwrite(target, io)) continue;
        await m.writeFileAtomically(target, signature, { mode: 0o644, replace: true, exists: () => new KmsError('InternalFailure', 'unreachable') });
        if (!args.quiet) io.stderr.write(`Write signature to ${escapeText(`${file}.sig`, 256)}\n`);
      }
      return 0;
    });
  } catch (error) {
    writeFailure(io, error);
    return EXIT_FAILURE;
  }
}

export async function runSshKeygen(argv: readonly string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv);
  if (args?.op !== undefined && args.op.startsWith('sign')) return sign(args, io);
  return handOver(SSH_KEYGEN, argv, io);
}

if (import.meta.main) {
  process.exitCode = await runSshKeygen(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    cwd: process.cwd(),
    env: process.env,
  });
}
