// The README's "Air-gapped signing" recipes, run as written: each ```sh block of the section in
// bash, on the machine its first line names. "# Station" blocks run with the station's vault;
// "# Online machine" blocks run in a HOME of their own with no vault at all (and none may appear).
// What crosses the gap is only what the recipes put there: usb/ is one directory both machines
// see (the USB stick), and a request-qr/ or response-qr/ directory of PNG frames one machine
// writes is copied to the other after its block (what the other's camera sees). `npx deskkms` is
// this checkout's CLI; ssh-keygen, gpg, openssl and zbarimg are the stock ones.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../core/actions/dispatch.ts';
import { createAliasedKey } from '../support/aliased-key.ts';
import type { CliIO } from '../../core/hosts/cli/command.ts';
import { runCli } from '../../core/hosts/cli/run.ts';
import { Vault } from '../../core/vault/vault.ts';
import { tempDir } from './vault-helpers.ts';
import { isCompileCache } from '../support/compile-cache.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PASSPHRASE = 'air gap recipes passphrase';

type MachineName = 'station' | 'online';
interface Machine {
  readonly work: string;
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;
}

let dir: ReturnType<typeof tempDir>;
let machines: Record<MachineName, Machine>;
let blocks: string[];
let releaseKeyId: string;
const timings: string[] = [];

interface Run {
  readonly status: number | null;
  readonly out: string;
  readonly stdout: string;
}

function machineOf(block: string): MachineName {
  const first = block.split('\n')[0]!;
  if (first.startsWith('# Station')) return 'station';
  if (first.startsWith('# Online machine')) return 'online';
  throw new Error(`a recipe block must say on its first line where it runs ("# Station" or "# Online machine"): ${first}`);
}

/** A block in bash on its machine; `npx deskkms` is this checkout's launcher. */
function sh(block: string, on: MachineName = machineOf(block)): Run {
  const m = machines[on];
  const prelude = `set -euo pipefail\nnpx() { if [ "$1" != deskkms ]; then echo "npx $1: not in the recipe" >&2; return 127; fi; shift; "${ROOT}/bin/deskkms" "$@"; }\n`;
  const started = performance.now();
  const r = spawnSync('bash', ['-c', prelude + block], { cwd: m.work, env: m.env, encoding: 'utf8', timeout: 240_000 });
  timings.push(`${on} ${block.split('\n')[0]!.slice(0, 50)}: ${Math.round(performance.now() - started)} ms`);
  return { status: r.status, out: `${r.stdout}\n${r.stderr}`, stdout: r.stdout };
}

/** Runs README block `i` on its machine, then lets the other machine's camera see its QR frames. */
function ran(i: number): Run {
  const block = blocks[i]!;
  const on = machineOf(block);
  const r = sh(block, on);
  expect(r.status, `${block}\n--- output\n${r.out}`).toBe(0);
  const other = machines[on === 'station' ? 'online' : 'station'];
  for (const entry of readdirSync(machines[on].work, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name.endsWith('-qr')) cpSync(join(machines[on].work, entry.name), join(other.work, entry.name), { recursive: true });
  }
  return r;
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The station's audit entries for the release key, through the CLI in this process (no Node start-up). */
async function auditOfRelease(): Promise<{ action: string; caller: string; code: string }[]> {
  let stdout = '';
  const io = {
    stdout: { write: (text: string) => ((stdout += text), true) },
    stderr: { write: () => true },
    stdin: Readable.from([]),
    cwd: machines.station.work,
    env: machines.station.env,
  } as unknown as CliIO;
  expect(await runCli(['ListAuditEntries', '--KeyId', releaseKeyId], io)).toBe(0);
  return (JSON.parse(stdout) as { Entries: { action: string; caller: string; code: string }[] }).Entries;
}

/** The first JSON object a block printed on stdout (show's review; approve's summary follows it). */
function jsonIn(text: string): Record<string, any> {
  const start = text.indexOf('{\n');
  return JSON.parse(text.slice(start, text.indexOf('\n}\n', start) + 2)) as Record<string, any>;
}

beforeAll(async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Air-gapped signing\n');
  expect(start).toBeGreaterThan(0);
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);

  dir = tempDir('deskkms-airgap-recipes-');
  const usb = join(dir.path, 'usb-stick');
  mkdirSync(usb);
  const make = (name: MachineName, extra: NodeJS.ProcessEnv): Machine => {
    const root = join(dir.path, name);
    const work = join(root, 'work');
    const home = join(root, 'home');
    mkdirSync(work, { recursive: true });
    mkdirSync(home, { recursive: true });
    symlinkSync(usb, join(work, 'usb'));
    const gnupg = join(root, 'gnupg');
    mkdirSync(gnupg, { mode: 0o700 });
    return {
      root,
      work,
      env: {
        // The bins on PATH as `npm link` puts them, before a system whose node is older.
        PATH: `${join(ROOT, 'bin')}:/usr/local/bin:/usr/bin:/bin`,
        HOME: home,
        XDG_DATA_HOME: join(home, '.local', 'share'),
        XDG_CONFIG_HOME: join(home, '.config'),
        GNUPGHOME: gnupg,
        LANG: 'C.UTF-8',
        ...extra,
      },
    };
  };
  const passFile = join(dir.path, 'station-pass.txt');
  writeFileSync(passFile, `${PASSPHRASE}\n`);
  const vaultDir = join(dir.path, 'station', 'vault');
  machines = {
    station: make('station', { DESKKMS_VAULT: vaultDir, DESKKMS_PASSPHRASE_FILE: passFile }),
    // No DESKKMS_VAULT: the default path under this HOME, which must stay absent.
    online: make('online', {}),
  };

  // The station's vault: the release key and the offline CA with its self-signed root.
  const vault = await Vault.init(vaultDir, { passphrase: Buffer.from(PASSPHRASE), kdfN: 2 ** 14 });
  try {
    const ids: Record<string, { keyId: string; versionId: string }> = {};
    for (const alias of ['alias/release', 'alias/offline-ca']) {
      ids[alias] = await createAliasedKey(vault, 'EC_P256', alias);
    }
    releaseKeyId = ids['alias/release']!.keyId;
    const ca = ids['alias/offline-ca']!;
    const root = await dispatch(vault, 'CreateSelfSignedCertificate', { KeyId: ca.keyId, KeyVersionId: ca.versionId, Subject: 'CN=Example Offline CA,O=Example,C=CN', ValidityDays: 3650 }, 'test');
    if (!root.ok) throw new Error(root.error.Message);
    // The root the online machine's servers already trust.
    writeFileSync(join(machines.online.work, 'ca.pem'), root.body.Certificate);
  } finally {
    await vault.close();
  }

  // The release's files, on the online machine only.
  for (const [name, size] of [['app-1.4.2.tar.gz', 2 << 20], ['app-1.4.2.zip', 700_001], ['app-1.4.3.tar.gz', 1 << 20]] as const) {
    writeFileSync(join(machines.online.work, name), randomBytes(size));
  }
}, 120_000);

afterAll(() => {
  for (const m of Object.values(machines ?? {})) spawnSync('gpgconf', ['--kill', 'all'], { env: m.env });
  console.log(`air gap recipes: timings\n  ${timings.join('\n  ')}`);
  dir?.remove();
});

describe("the README's Air-gapped signing recipes, run as written", { timeout: 240_000 }, () => {
  it('has ten blocks, each naming its machine: publish once, sign a release, by QR code, a certificate', () => {
    expect(blocks).toHaveLength(10);
    expect(blocks.map(machineOf)).toEqual(['station', 'online', 'station', 'online', 'online', 'station', 'online', 'online', 'station', 'online']);
  });

  it('signs a release across the gap: only digests cross, and ssh-keygen verifies what finish writes', async () => {
    ran(0);
    expect(readFileSync(join(machines.online.work, 'usb', 'release.pem'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);

    const online = ran(1);
    const request = readFileSync(join(machines.online.work, 'usb', 'release-1.4.2.req.json'));
    expect(request.length).toBeLessThan(4096); // 2.7 MB of files, a request of a few hundred bytes
    const digests = [sha256(join(machines.online.work, 'app-1.4.2.tar.gz')), sha256(join(machines.online.work, 'app-1.4.2.zip'))];
    for (const digest of digests) expect(online.out).toContain(digest); // what sha256sum printed

    const station = ran(2);
    const review = jsonIn(station.stdout);
    expect(review.Problems).toEqual([]);
    expect(review.Files.map((f: { Sha256: string }) => f.Sha256)).toEqual(digests);
    expect(review.Files.map((f: { Bound: boolean }) => f.Bound)).toEqual([true, true]); // what is signed is over them
    expect(review.Note).toBe('Release 1.4.2, tag v1.4.2');
    expect(review.Key).toMatchObject({ KeyId: releaseKeyId, Pinned: true });
    expect(existsSync(join(machines.station.work, 'app-1.4.2.tar.gz'))).toBe(false);

    const finished = ran(3);
    expect(finished.out).toMatch(/Good "file" signature for release@example\.org with ECDSA key SHA256:/);
    // The second file too, and a changed byte is refused.
    const zip = readFileSync(join(machines.online.work, 'app-1.4.2.zip'));
    const verify = (input: Uint8Array) =>
      spawnSync('ssh-keygen', ['-Y', 'verify', '-f', 'allowed_signers', '-I', 'release@example.org', '-n', 'file', '-s', 'app-1.4.2.zip.sig'], { cwd: machines.online.work, input, encoding: 'utf8' });
    expect(verify(zip).status).toBe(0);
    zip.writeUInt8(zip.readUInt8(1000) ^ 1, 1000);
    expect(verify(zip).status).not.toBe(0);

    // Each signature is an AsymmetricSign for the request, then the approval, in the station's audit.
    const requestId = (JSON.parse(request.toString('utf8')) as { RequestId: string }).RequestId;
    const entries = (await auditOfRelease()).filter((e) => e.caller.includes(requestId));
    expect(entries.filter((e) => e.action === 'AsymmetricSign').map((e) => e.caller)).toEqual([`cli:request:${requestId}:ssh`, `cli:request:${requestId}:ssh`]);
    expect(entries.some((e) => e.action === 'ApproveSigningRequest')).toBe(true);
  });

  it('carries a request and its response by QR code only, and gpg verifies the signature with the certificate that came back', () => {
    ran(4);
    const frames = readdirSync(join(machines.online.work, 'request-qr')).filter((f) => f.endsWith('.png')).sort();
    expect(frames[0]).toBe('release-1.4.3.req-01.png'); // as the recipe says
    expect(existsSync(join(machines.station.work, 'release-1.4.3.req.json'))).toBe(false); // only the frames crossed
    ran(5);
    const parts = readFileSync(join(machines.station.work, 'release-1.4.3.req.ur'), 'utf8').trim().split('\n');
    expect(parts).toHaveLength(frames.length);
    for (const part of parts) expect(part).toMatch(/^UR:BYTES\//);
    expect(readdirSync(join(machines.station.work, 'response-qr')).filter((f) => f.endsWith('.png')).length).toBeGreaterThan(0);
    const out = ran(6).out;
    expect(out).toMatch(/gpg: Good signature from "Example Releases <release@example\.org>"/);
    timings.push(`QR: request ${frames.length} frames`);
  });

  it('has the offline CA issue a certificate for a CSR; openssl verify accepts it with the root', () => {
    ran(7);
    expect(readFileSync(join(machines.online.work, 'usb', 'build.req.json'), 'utf8')).toContain('BEGIN CERTIFICATE REQUEST');
    const review = jsonIn(ran(8).stdout);
    expect(review.Csr).toMatchObject({ ValidityDays: 90, IsCa: false, SubjectAltNames: [expect.stringContaining('build.example.org')] });
    expect(review.Csr.ExtendedKeyUsages).toEqual([expect.stringMatching(/serverAuth/i)]);
    const out = ran(9).out;
    expect(out).toMatch(/build\.crt: OK/);
    expect(existsSync(join(machines.station.work, 'build.key'))).toBe(false);
  });

  it('left no vault on the online machine', () => {
    const everything: string[] = [];
    const walk = (d: string): void => {
      for (const entry of readdirSync(d, { withFileTypes: true })) {
        everything.push(relative(machines.online.root, join(d, entry.name)));
        if (entry.isDirectory()) walk(join(d, entry.name));
      }
    };
    walk(machines.online.root);
    // bin/run-with-node's compile cache (Node's compiled DeskKMS modules, no vault data) is no vault.
    const compileCache = isCompileCache(join('home', '.cache'));
    expect(everything.filter((p) => /deskkms|vault/i.test(p) && !compileCache(p))).toEqual([]);
  });
});
