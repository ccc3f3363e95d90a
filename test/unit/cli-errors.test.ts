// How the CLI reports failures (a Code and a message, never a stack unless asked for) and how it
// reads a passphrase file (one buffer of its own, a pipe too, named errors).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsError } from '../../core/contract/errors.ts';
import type { CliIO } from '../../core/hosts/cli/command.ts';
import { internalErrorReporter, writeFailure } from '../../core/hosts/cli/report-error.ts';
import { passphraseOf } from '../../core/hosts/cli/vault-session.ts';
import { rejection } from '../support/errors.ts';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'deskkms-cli-errors-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io(env: NodeJS.ProcessEnv = {}): CliIO & { err: () => string } {
  let err = '';
  return {
    stdout: { write: () => true },
    stderr: { write: (s: string) => ((err += s), true) },
    stdin: process.stdin,
    cwd: dir,
    env,
    err: () => err,
  } as unknown as CliIO & { err: () => string };
}

describe('writeFailure', () => {
  it('prints a KmsError as its {"Code","Message"} only', () => {
    const out = io();
    writeFailure(out, new KmsError('Vault.ReadOnly', 'the vault at /v is read-only'));
    expect(out.err()).toBe('{"Code":"Vault.ReadOnly","Message":"the vault at /v is read-only"}\n');
  });

  it('a bug: its one-line detail, then InternalFailure saying where that detail is; no stack', () => {
    const out = io();
    writeFailure(out, new TypeError('cannot read properties of undefined\n(reading "x")'));
    const [detail, json, rest] = out.err().split('\n');
    expect(detail).toBe('deskkms: internal failure: TypeError: cannot read properties of undefined (reading "x")');
    expect(JSON.parse(json!)).toEqual({
      Code: 'InternalFailure',
      Message: 'internal failure (a bug in DeskKMS; detail on stderr above; DESKKMS_DEBUG=1 adds the stack); please report it',
    });
    expect(rest).toBe('');
    expect(out.err()).not.toMatch(/^\s+at /m);
  });

  it('DESKKMS_DEBUG=1 adds the stack', () => {
    const out = io({ DESKKMS_DEBUG: '1' });
    writeFailure(out, new Error('boom'));
    expect(out.err()).toMatch(/^\s+at /m);
    expect(out.err()).toContain('"Message":"internal failure (a bug in DeskKMS; detail and stack on stderr above); please report it"');
  });
});

describe('internalErrorReporter (dispatch\'s onInternalError in the CLI, batch and serve)', () => {
  it('writes a bug inside a call on one line under its Action and RequestId; the stack only with DESKKMS_DEBUG=1', () => {
    const bug = new TypeError('x is undefined\n  second line');
    const quiet = io();
    internalErrorReporter(quiet)('AsymmetricSign', 'b6a1a0c4-1111-4222-8333-944455556666', bug);
    expect(quiet.err()).toBe('deskkms: internal failure in AsymmetricSign (RequestId b6a1a0c4-1111-4222-8333-944455556666): TypeError: x is undefined second line\n');
    const debug = io({ DESKKMS_DEBUG: '1' });
    internalErrorReporter(debug)('AsymmetricSign', 'b6a1a0c4-1111-4222-8333-944455556666', bug);
    expect(debug.err()).toContain(bug.stack!);
  });
});

describe('passphraseOf', () => {
  const flags = (file: string) => ({ 'passphrase-file': file });

  it('reads a file less one trailing newline, into an ArrayBuffer of its own', async () => {
    writeFileSync(join(dir, 'p1'), 'correct horse\r\n');
    const bytes = (await passphraseOf(flags('p1'), io()))!;
    expect(Buffer.from(bytes).toString()).toBe('correct horse');
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBeLessThanOrEqual(16 + 1); // the file's size + 1, not a pool slab
  });

  it('reads a pipe (e.g. <(pass show vault)), growing past its first buffer', async () => {
    const fifo = join(dir, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const long = 'x'.repeat(1000);
    const writer = spawn('sh', ['-c', `printf '%s\\n' "$1" > "$2"`, 'sh', long, fifo]);
    const bytes = (await passphraseOf(flags(fifo), io()))!;
    await new Promise((done) => writer.once('exit', done));
    expect(Buffer.from(bytes).toString()).toBe(long);
  });

  it('names the flag, the file and the problem', async () => {
    mkdirSync(join(dir, 'adir'));
    writeFileSync(join(dir, 'big'), Buffer.alloc(70 << 10, 0x61));
    writeFileSync(join(dir, 'empty'), '\n');
    const cases: [string, RegExp][] = [
      ['missing', /^--passphrase-file: missing: no such file$/],
      ['adir', /^--passphrase-file: adir: is a directory$/],
      ['big', /^--passphrase-file: big: larger than 64 KiB; a passphrase file holds one line$/],
      ['empty', /^Passphrase: is empty$/],
    ];
    for (const [file, message] of cases) {
      const error = await rejection(passphraseOf(flags(file), io()));
      expect(error.code).toBe('InvalidParameter');
      expect(error.message).toMatch(message);
    }
  });

  it('gives nothing without --passphrase-file or DESKKMS_PASSPHRASE_FILE; the variable is read', async () => {
    expect(await passphraseOf({}, io())).toBeUndefined();
    writeFileSync(join(dir, 'p2'), 'from env');
    expect(Buffer.from((await passphraseOf({}, io({ DESKKMS_PASSPHRASE_FILE: 'p2' })))!).toString()).toBe('from env');
  });
});
