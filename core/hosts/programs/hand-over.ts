// Handing an invocation to "the real" program: deskkms-gpg hands what is not a detached signature
// to the real gpg, deskkms-ssh-keygen what is not `-Y sign` to the real ssh-keygen. Both find it
// the same way, here:
//   - the env override ($DESKKMS_GPG, $DESKKMS_SSH_KEYGEN) when set: an absolute path to an
//     executable regular file that is not this program (a symlink to it included);
//   - else the first of the program's names in an absolute PATH directory that is an executable
//     regular file and not this program (by real path). Empty and relative PATH entries ("", ".",
//     "bin") are skipped: git runs these programs inside a repository, whose files must never run.
// A wrapper script (or a copy of the launcher) that calls this program back cannot be recognised
// by its path, so the real program runs with <ENV>_HANDED_OVER=1 in its environment: a hand-over
// that finds the marker set is a loop, and ends with a failure instead of starting itself again.
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, realpathSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { KmsError, invalidParameter } from '../../contract/errors.ts';
import { escapeText } from '../../contract/escape-text.ts';
import type { CliIO } from '../cli/command.ts';
import { writeFailure } from '../cli/report-error.ts';

const ROOT = resolve(import.meta.dirname, '../../..');

export interface HandOverTarget {
  /** This program's name, as its launcher bin/<program> is named: "deskkms-gpg". */
  readonly program: string;
  /** This program's module file (its import.meta.filename): a candidate that is it is not the real one. */
  readonly module: string;
  /** The real program's names on PATH, in order of preference: ["gpg", "gpg2"]. */
  readonly names: readonly string[];
  /** The environment variable naming the real program: "DESKKMS_GPG". */
  readonly envVar: string;
  /** The exit status of a hand-over that cannot happen (gpg's 2, ssh-keygen's 255). */
  readonly failureStatus: number;
}

/** The marker set in the real program's environment; found set at a hand-over, it means a loop. */
export function handedOverMarker(target: HandOverTarget): string {
  return `${target.envVar}_HANDED_OVER`;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function realPath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** Whether `candidate` is this program: its launcher or its module, or a symlink to either. */
function isSelf(target: HandOverTarget, candidate: string): boolean {
  const real = realPath(candidate);
  return real !== undefined && [join(ROOT, 'bin', target.program), target.module].some((own) => realPath(own) === real);
}

/** The real program's absolute path (see the header); a KmsError naming the reason when there is none. */
export function findRealProgram(target: HandOverTarget, env: NodeJS.ProcessEnv): string {
  const configured = env[target.envVar];
  const what = `the real ${target.names[0]}`;
  if (configured !== undefined && configured !== '') {
    const shown = escapeText(configured, 256);
    if (!isAbsolute(configured)) throw invalidParameter(target.envVar, `${shown} must be an absolute path to ${what}`);
    if (!isExecutableFile(configured)) throw invalidParameter(target.envVar, `${shown} is not an executable file`);
    if (isSelf(target, configured)) throw invalidParameter(target.envVar, `${shown} is ${target.program} itself, not ${what}`);
    return configured;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue; // never the cwd (a repository) or a directory relative to it
    for (const name of target.names) {
      const candidate = join(dir, name);
      if (isExecutableFile(candidate) && !isSelf(target, candidate)) return candidate;
    }
  }
  throw new KmsError(
    'InvalidParameter',
    `no ${target.names.join(' or ')} in an absolute PATH directory other than ${target.program} itself: install it or set ${target.envVar} to ${what}`,
  );
}

/**
 * Runs the real program with `argv`, this process's stdio, io.cwd and io.env plus the loop marker;
 * its exit status (128 + the signal's number if it was killed), or target.failureStatus with
 * {"Code","Message"} on stderr when it cannot be found, is this program, or the hand-over looped.
 */
export async function handOver(target: HandOverTarget, argv: readonly string[], io: CliIO): Promise<number> {
  const marker = handedOverMarker(target);
  let program: string;
  try {
    if (io.env[marker] !== undefined && io.env[marker] !== '') {
      throw new KmsError(
        'InvalidParameter',
        `the "${target.names[0]}" ${target.program} handed over to came back to ${target.program} (a wrapper that calls it?): set ${target.envVar} to ${`the real ${target.names[0]}`}`,
      );
    }
    program = findRealProgram(target, io.env);
  } catch (error) {
    writeFailure(io, error);
    return target.failureStatus;
  }
  return new Promise<number>((done) => {
    const child = spawn(program, argv, { stdio: 'inherit', cwd: io.cwd, env: { ...io.env, [marker]: '1' } });
    child.on('error', (error) => {
      writeFailure(io, new KmsError('InternalFailure', `cannot run ${escapeText(program, 256)}: ${escapeText(error.message, 512)}`));
      done(target.failureStatus);
    });
    child.on('exit', (code, signal) => done(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0)));
  });
}
