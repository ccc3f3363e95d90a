// deskkms-gpg: the program git calls as gpg.program (package bin, started by bin/deskkms-gpg with
// the project's own Node). It speaks the part of GnuPG's command line git uses to sign:
//   deskkms-gpg --status-fd=2 -bsau <user.signingkey>        (payload on stdin)
// answering with the armored detached signature on stdout and gpg's status lines, SIG_CREATED
// among them, on the status fd. The key is found in the vault ($DESKKMS_VAULT,
// $DESKKMS_PASSPHRASE_FILE) by its OpenPGP fingerprint (40 hex digits, with or without 0x and
// spaces) or long key ID (16 hex digits): the vault stores no User IDs, so an e-mail address
// cannot name a key. The signature is one AsymmetricSign through dispatch, audited as "gpg:openpgp";
// when a running DeskKMS agent serves the vault and that key version, through the agent (audited
// "ssh-agent[PROGRAM PID]:gpg:openpgp"), else the vault is opened (core/hosts/cli/signer-session.ts).
// A file's signature goes to -o OUT or FILE.asc/FILE.sig, written whole (a temporary file moved
// into place, which replaces a symlink there rather than writing through it); an existing one is
// refused unless --yes is given, as gpg --batch refuses it.
// Everything else (git's `--status-fd=1 --verify SIG -`, --list-keys, --version...) is handed
// to the real gpg ($DESKKMS_GPG, else the first gpg or gpg2 in an absolute PATH directory that is
// not this program; a wrapper that loops back is detected: hand-over.ts) with its stdio, and its
// exit status returned.
import { createReadStream, lstatSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Signer } from '../../actions/format-signing.ts';
import { KmsError, invalidParameter } from '../../contract/errors.ts';
import { displayText, escapeText } from '../../contract/escape-text.ts';
import type { SigningKeyInfo } from '../../formats/format.ts';
import type { CliIO } from '../cli/command.ts';
import { writeFailure } from '../cli/report-error.ts';
import { handOver, type HandOverTarget } from './hand-over.ts';
import { isMainModule } from './is-main.ts';

// Signing needs the handler table, the vault and the OpenPGP format; handing over needs none of
// them, and git hands over on every verification (`git log --show-signature` runs this program once
// a commit): those modules are loaded only to sign, while the key worker starts on the other core.
const signingModules = async () => {
  const [signing, openpgp, packets, output, signerSession] = await Promise.all([
    import('../../actions/format-signing.ts'),
    import('../../formats/openpgp.ts'),
    import('../../formats/openpgp-packets.ts'),
    import('../cli/output-file.ts'),
    import('../cli/signer-session.ts'),
  ]);
  return { ...signing, ...openpgp, ...packets, ...output, ...signerSession };
};
type SigningModules = Awaited<ReturnType<typeof signingModules>>;

/** Where everything but a detached signature goes: the real gpg (core/hosts/programs/hand-over.ts). */
export const GPG: HandOverTarget = { program: 'deskkms-gpg', module: import.meta.filename, names: ['gpg', 'gpg2'], envVar: 'DESKKMS_GPG', failureStatus: 2 };

/** What git asked for when it asks to sign; undefined when the invocation is not a signing one. */
export interface SignRequest {
  readonly key: string;
  readonly armor: boolean;
  /** The status file descriptor (--status-fd), if any. */
  readonly statusFd?: number;
  /** The file to sign (default stdin) and where to write (default stdout, or FILE.asc/.sig for a file). */
  readonly input?: string;
  readonly output?: string;
  /** --yes: an existing output file may be replaced (else it is refused, as gpg --batch refuses it). */
  readonly yes?: boolean;
}

/** Options that change nothing in a signature DeskKMS makes (git and scripts pass them). */
const IGNORED_LONG = new Set(['--batch', '--no-tty', '--quiet', '--no-verbose', '--no-greeting', '--no-permission-warning']);
const IGNORED_WITH_VALUE = new Set(['--keyid-format', '--pinentry-mode', '--digest-algo', '--homedir', '--passphrase-fd']);

/**
 * Reads gpg's arguments: a detached signing request (-b/--detach-sign with -s/--sign or alone,
 * -u/--local-user KEY, -a/--armor, --status-fd N, -o/--output FILE, one file or stdin), or
 * undefined for anything else, which goes to the real gpg. A signing request with an option
 * this program does not know is refused rather than half-understood.
 */
export function parseSignRequest(argv: readonly string[]): SignRequest | undefined {
  let detach = false;
  let armor = false;
  let yes = false;
  let key: string | undefined;
  let statusFd: number | undefined;
  let output: string | undefined;
  const files: string[] = [];
  const unknown: string[] = [];
  const fd = (value: string | undefined): number => {
    if (value === undefined || !/^\d{1,4}$/.test(value)) throw invalidParameter('--status-fd', `${value === undefined ? '(none)' : escapeText(value, 64)} is not a file descriptor number`);
    return Number(value);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    if (name === '--') {
      files.push(...argv.slice(i + 1));
      break;
    } else if (name === '--detach-sign') detach = true;
    else if (name === '--sign') continue; // -s beside -b: still a detached signature
    else if (name === '--armor') armor = true;
    else if (name === '--local-user') key = value();
    else if (name === '--status-fd') statusFd = fd(value());
    else if (name === '--output') output = value();
    else if (name === '--yes') yes = true;
    else if (IGNORED_LONG.has(name)) continue;
    else if (IGNORED_WITH_VALUE.has(name)) {
      if (inline === undefined) i++;
    } else if (/^-[a-zA-Z]/.test(arg)) {
      // A cluster of short options: -bsau KEY, -b -s -a -u KEY, -uKEY, -o FILE.
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j]!;
        if (c === 'b') detach = true;
        else if (c === 's') continue;
        else if (c === 'a') armor = true;
        else if (c === 'u' || c === 'o') {
          const rest = arg.slice(j + 1) || argv[++i];
          if (c === 'u') key = rest;
          else output = rest;
          break;
        } else {
          unknown.push(escapeText(`-${c}`, 16));
        }
      }
    } else if (arg.startsWith('--')) unknown.push(escapeText(name, 64));
    else files.push(arg);
  }
  if (!detach) return undefined; // not a detached signature: the real gpg's business
  if (unknown.length > 0) throw invalidParameter('arguments', `deskkms-gpg signs with -b [-s] [-a] -u KEY [--status-fd N] [-o FILE] [FILE]; it does not know ${unknown.join(', ')}`);
  if (key === undefined || key === '') throw invalidParameter('--local-user', 'name the signing key with -u KEY (its OpenPGP fingerprint or long key ID): the vault has no default key');
  if (files.length > 1) throw invalidParameter('arguments', 'deskkms-gpg signs one file (or stdin) at a time');
  const input = files[0] === '-' ? undefined : files[0];
  return {
    key,
    armor,
    ...(statusFd !== undefined ? { statusFd } : {}),
    ...(input !== undefined ? { input } : {}),
    ...(output !== undefined ? { output } : {}),
    ...(yes ? { yes } : {}),
  };
}

/** A fingerprint (40 hex) or long key ID (16 hex), as gpg's -u accepts them; undefined for anything else. */
export function keySelector(key: string): { readonly fingerprint?: string; readonly keyId?: string } | undefined {
  const hexDigits = key.replace(/\s+/g, '').replace(/!$/, '').replace(/^0x/i, '').toUpperCase();
  if (/^[0-9A-F]{40}$/.test(hexDigits)) return { fingerprint: hexDigits };
  if (/^[0-9A-F]{16}$/.test(hexDigits)) return { keyId: hexDigits };
  return undefined;
}

/** The key versions that sign as `key` in OpenPGP: the vault's, or those a DeskKMS agent serves. */
async function findOpenpgpKeys(m: SigningModules, from: Signer, key: string, what?: string): Promise<SigningKeyInfo[]> {
  const selector = keySelector(key);
  if (!selector) return [];
  return m.findSigningKeys(
    from,
    (k) => {
      if (m.openpgpFormat.unsupported(k.spec) !== undefined) return false;
      const fpr = m.openpgpFingerprint(k);
      return selector.fingerprint !== undefined ? fpr === selector.fingerprint : fpr.slice(24) === selector.keyId;
    },
    what,
  );
}

export interface GpgProgramIO extends CliIO {
  /** Writes a status line to the fd git named with --status-fd. */
  readonly status: (fd: number, text: string) => void;
}

async function readAll(stream: NodeJS.ReadableStream, onChunk: (chunk: Uint8Array) => void): Promise<void> {
  for await (const chunk of stream) onChunk(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk);
}

/** A file that cannot be read or written, as an error naming it (not an internal failure). */
function fileError(path: string, error: unknown): KmsError {
  const code = (error as { code?: unknown }).code;
  return invalidParameter('FILE', `${escapeText(path, 256)}: ${typeof code === 'string' ? escapeText(code, 32) : 'cannot be read or written'}`);
}

/** An existing output file, refused (a symlink there too, even one that points nowhere). */
function outputExists(path: string): KmsError {
  return invalidParameter('--output', `${escapeText(path, 256)}: File exists; give --yes to replace it`);
}

function isPresent(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A line as gpg writes it on stderr; outside text in it was escaped where it was put in, and nothing in it can move the terminal. */
function gpgLine(io: CliIO, text: string): void {
  io.stderr.write(`gpg: ${displayText(text)}\n`);
}

/** The whole program: exit status 0 signed, 2 refused (gpg's codes); other invocations the real gpg's. */
export async function runGpgProgram(argv: readonly string[], io: GpgProgramIO): Promise<number> {
  let request: SignRequest | undefined;
  try {
    request = parseSignRequest(argv);
  } catch (error) {
    gpgLine(io, `signing failed: ${(error as Error).message}`);
    writeFailure(io, error);
    return 2;
  }
  if (!request) return handOver(GPG, argv, io);
  const req = request;
  const shownKey = escapeText(req.key, 128);
  try {
    const named = req.output ?? (req.input !== undefined ? `${req.input}${req.armor ? '.asc' : '.sig'}` : undefined);
    const out = named === undefined || named === '-' ? undefined : { name: named, path: resolve(io.cwd, named) };
    // Refused before anything is signed; the write itself refuses a file that appears meanwhile.
    if (out !== undefined && req.yes !== true && isPresent(out.path)) throw outputExists(out.name);
    const selector = keySelector(req.key);
    if (!selector) {
      // Refused before the vault is opened: nothing in it could match.
      gpgLine(io, `skipped "${shownKey}": No secret key`);
      throw new KmsError(
        'Forbidden.KeyNotFound',
        `"${shownKey}" is neither an OpenPGP fingerprint (40 hex digits) nor a long key ID (16 hex digits); the vault keeps no User IDs, so set user.signingkey to the key's fingerprint`,
      );
    }
    // Its key worker loads on the other core while this thread loads the signing modules.
    await (await import('../cli/early-worker.ts')).prestartUnlessAgent(io);
    const m = await signingModules();
    const written = await m.withSigner({}, io, 'gpg', async (signer) => {
      // Not among the agent's keys: Agent.KeyNotAdded, and the vault is opened and searched instead.
      const keys = await findOpenpgpKeys(m, signer, req.key, `the OpenPGP key ${shownKey}`);
      if (keys.length === 0) {
        gpgLine(io, `skipped "${shownKey}": No secret key`);
        throw new KmsError('Forbidden.KeyNotFound', `no Enabled SIGN/VERIFY key version in the vault has the OpenPGP ${selector.fingerprint ? 'fingerprint' : 'key ID'} ${shownKey}`);
      }
      if (keys.length > 1) {
        throw invalidParameter('--local-user', `"${shownKey}" matches ${keys.length} key versions; give the full 40-hex fingerprint`);
      }
      const key = keys[0]!;
      const fpr = m.openpgpFingerprint(key);
      const time = new Date(Math.floor(Date.now() / 1000) * 1000);
      const pending = m.beginSignature(key, 'openpgp', { time });
      if (req.statusFd !== undefined) io.status(req.statusFd, `[GNUPG:] KEY_CONSIDERED ${fpr} 0\n[GNUPG:] BEGIN_SIGNING H8\n`);
      try {
        await readAll(req.input !== undefined ? createReadStream(resolve(io.cwd, req.input)) : io.stdin, (chunk) => pending.update(chunk));
      } catch (error) {
        throw fileError(req.input ?? '-', error);
      }
      const armored = await m.completeSignature(signer, key, 'openpgp', pending);
      const bytes = req.armor ? armored : m.dearmor(armored, 'PGP SIGNATURE', 'signature');
      return { bytes, status: `[GNUPG:] SIG_CREATED D ${m.openpgpAlgorithm(key)} 8 00 ${time.getTime() / 1000} ${fpr}\n` };
    });
    if (out === undefined) await new Promise<void>((done, fail) => io.stdout.write(written.bytes, (e) => (e ? fail(e) : done())));
    else {
      try {
        // rename (--yes) or link(2) of a temporary file: a symlink at the target is replaced or refused, never written through.
        await m.writeFileAtomically(out.path, written.bytes, { mode: 0o644, replace: req.yes === true, exists: () => outputExists(out.name) });
      } catch (error) {
        throw error instanceof KmsError ? error : fileError(out.name, error);
      }
    }
    if (req.statusFd !== undefined) io.status(req.statusFd, written.status);
    return 0;
  } catch (error) {
    gpgLine(io, `signing failed: ${error instanceof KmsError ? error.message : 'internal failure'}`);
    writeFailure(io, error);
    return 2;
  }
}

function main(): Promise<number> {
  const io: GpgProgramIO = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    cwd: process.cwd(),
    env: process.env,
    status: (fd, text) => {
      if (fd === 2) process.stderr.write(text);
      else if (fd === 1) process.stdout.write(text);
      else writeSync(fd, text);
    },
  };
  return runGpgProgram(process.argv.slice(2), io);
}

if (isMainModule(import.meta.filename)) {
  process.exitCode = await main();
}
