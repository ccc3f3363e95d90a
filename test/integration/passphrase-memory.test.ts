// How many copies of the passphrase a `deskkms serve` process keeps once it has unlocked: every
// readable page of its memory (/proc/PID/mem: both threads' JS heaps, ArrayBuffer backing stores,
// the native heap with its freed blocks) searched for a distinctive passphrase. Before the
// passphrase file was read into a buffer of our own, the copy moved (not cloned) into the key
// worker and every buffer wiped after scrypt, this found 6 copies; now none.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { spawnUntilFirstLine } from '../support/child-process.ts';
import { scanProcessMemory, type MemoryScan } from '../support/memory-scan.ts';

const BIN = resolve(import.meta.dirname, '../../core/hosts/cli/deskkms.ts');
// Distinctive, and built at run time so that this file's text is not a copy in the child.
const PASSPHRASE = ['Canary', 'Passphrase', Date.now().toString(36), 'q7Zr2Xw9Lk4Vb8'].join('-');

let dir: string;
let env: NodeJS.ProcessEnv;

function memoryReadable(): string | undefined {
  if (process.platform !== 'linux') return `/proc/PID/mem is Linux only (this is ${process.platform})`;
  return undefined;
}

/** The scan, or a skip naming why this process may not read the child's memory. */
function scan(ctx: TestContext, pid: number, needle: string): MemoryScan {
  try {
    return scanProcessMemory(pid, Buffer.from(needle));
  } catch (error) {
    const reason = `cannot read /proc/${pid}/mem (${(error as NodeJS.ErrnoException).code ?? String(error)}): run as root or allow ptrace`;
    console.warn(`skipped: ${reason}`);
    ctx.skip(reason);
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'deskkms-passphrase-memory-'));
  writeFileSync(join(dir, 'pass.txt'), `${PASSPHRASE}\n`, { mode: 0o600 });
  env = { PATH: process.env.PATH ?? '', HOME: dir, DESKKMS_VAULT: join(dir, 'vault'), DESKKMS_PASSPHRASE_FILE: join(dir, 'pass.txt') };
  const init = spawnSync(process.execPath, [BIN, 'init'], { env, encoding: 'utf8' });
  expect(init.status, init.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the passphrase in the memory of deskkms serve', () => {
  it('the scan finds a secret a process does hold (control)', async (ctx) => {
    const reason = memoryReadable();
    if (reason) ctx.skip(reason);
    const canary = `${PASSPHRASE}-control`;
    const holder = await spawnUntilFirstLine(process.execPath, ['-e', 'const b = Buffer.from(process.argv[1]); console.log("ready"); setInterval(() => b, 1000);', canary]);
    try {
      expect(scan(ctx, holder.child.pid!, canary).bytes).toBeGreaterThan(0);
    } finally {
      await holder.stop();
    }
  });

  it('no copy is left after unlock', async (ctx) => {
    const reason = memoryReadable();
    if (reason) ctx.skip(reason);
    const serve = await spawnUntilFirstLine(process.execPath, [BIN, 'serve'], { env });
    try {
      // Listening means unlocked (serve unlocks before it binds); let the worker finish wiping.
      await new Promise((done) => setTimeout(done, 300));
      const found = scan(ctx, serve.child.pid!, PASSPHRASE);
      console.log(`deskkms serve after unlock: ${found.bytes} copies of the passphrase (UTF-16: ${found.utf16}) in ${(found.scanned / 2 ** 20).toFixed(0)} MiB`);
      expect(found.scanned).toBeGreaterThan(10 << 20);
      expect(found).toMatchObject({ bytes: 0, utf16: 0 });
    } finally {
      await serve.stop();
    }
  });
});
