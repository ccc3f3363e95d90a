// deskkms request create | show | approve | reject | finish as an operator runs them: an online
// directory without a vault makes the request, the station vault approves it, finish checks the
// response against the request and the files and writes the ecosystem files, which ssh-keygen
// (and openssl) verify. Then the refusals, each with its Code, and the audit: a refused or
// rejected request signs nothing (no AsymmetricSign for it), and every decision is recorded with
// the request id in its caller. Every format against its own peer is test/integration/airgap-peers.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../core/hosts/cli/command.ts';
import { runCli } from '../../core/hosts/cli/run.ts';
import { Vault } from '../../core/vault/vault.ts';
import { tempDir } from './vault-helpers.ts';

let dir: ReturnType<typeof tempDir>;
let online: string;
let station: string;
let env: Record<string, string>;

interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI in this process; `tty` makes stdin a terminal that types `answer`. */
async function cli(args: readonly string[], options: { cwd?: string; env?: Record<string, string>; tty?: boolean; answer?: string } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const stdin = Readable.from(options.answer !== undefined ? [Buffer.from(`${options.answer}\n`)] : []) as Readable & { isTTY?: boolean };
  if (options.tty) stdin.isTTY = true;
  const io = {
    stdout: { write: (data: string | Uint8Array) => ((stdout += Buffer.from(data).toString('utf8')), true) },
    stderr: { write: (text: string) => ((stderr += text), true) },
    stdin,
    cwd: options.cwd ?? online,
    env: { PATH: process.env.PATH, ...(options.env ?? {}) },
  } as unknown as CliIO;
  const status = await runCli(args, io);
  return { status, stdout, stderr };
}

/** The station: the vault is there (and only there). */
const atStation = (args: readonly string[], options: { tty?: boolean; answer?: string } = {}) => cli(args, { cwd: station, env, ...options });

function ok(r: Run): Record<string, any> {
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, any>;
}

function refused(r: Run): { Code: string; Message: string } {
  expect(r.status, `expected a refusal; stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(2);
  const lines = r.stderr.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as { Code: string; Message: string };
}

function write(where: string, name: string, data: string | Uint8Array): string {
  const path = join(where, name);
  writeFileSync(path, data);
  return path;
}

async function makeKey(spec: string, alias?: string): Promise<{ keyId: string; versionId: string }> {
  const created = ok(await atStation(['CreateKey', '--KeySpec', spec, '--KeyUsage', 'SIGN/VERIFY']));
  const keyId = created.KeyMetadata.KeyId as string;
  if (alias) ok(await atStation(['CreateAlias', '--KeyId', keyId, '--AliasName', alias]));
  const versions = ok(await atStation(['ListKeyVersions', '--KeyId', keyId]));
  return { keyId, versionId: versions.KeyVersions.KeyVersion[0].KeyVersionId as string };
}

type Entry = { action: string; caller: string; code: string; keyId: string | null };

async function audit(keyId: string): Promise<Entry[]> {
  return (ok(await atStation(['ListAuditEntries', '--KeyId', keyId])) as { Entries: Entry[] }).Entries;
}

/** The AsymmetricSign entries made for request `id`. */
async function signsFor(keyId: string, id: string): Promise<Entry[]> {
  return (await audit(keyId)).filter((e) => e.action === 'AsymmetricSign' && e.caller.includes(id));
}

/** A request made online (no vault in its environment); returns its id. */
async function create(args: readonly string[], out: string): Promise<string> {
  const made = ok(await cli(['request', 'create', ...args, '-o', out]));
  expect(made.Request).toBe(join(online, out));
  return made.RequestId as string;
}

/** The request file copied to the station (the USB stick). */
function carry(name: string, from = online, to = station): string {
  return write(to, name, readFileSync(join(from, name)));
}

beforeAll(async () => {
  dir = tempDir('deskkms-request-cli-');
  online = join(dir.path, 'online');
  station = join(dir.path, 'station');
  mkdirSync(online);
  mkdirSync(station);
  env = { DESKKMS_VAULT: join(station, 'vault'), DESKKMS_PASSPHRASE_FILE: write(dir.path, 'pass.txt', 'request cli passphrase\n') };
  await (await Vault.init(env.DESKKMS_VAULT!, { passphrase: Buffer.from('request cli passphrase'), kdfN: 2 ** 14 })).close();
}, 120_000);

describe('deskkms request: ssh across the gap', () => {
  it('create (no vault) -> show -> approve --yes -> finish writes FILE.sig that ssh-keygen -Y verify accepts', async () => {
    const key = await makeKey('EC_P256', 'alias/release');
    write(online, 'app-1.0.tar.gz', Buffer.alloc(3 << 20, 7));
    const sums = write(online, 'app-1.0.sha256', 'e3b0c44298fc1c149afbf4c8996fb924  app-1.0.tar.gz\n');
    // Online: no vault at all in the environment (and none opened).
    const id = await create(['--key', 'alias/release', '--format', 'ssh', '--namespace', 'file', '--in', 'app-1.0.tar.gz', '--in', 'app-1.0.sha256', '--note', 'release 1.0'], 'req.json');
    expect(existsSync(join(online, 'vault'))).toBe(false);
    const request = JSON.parse(readFileSync(join(online, 'req.json'), 'utf8')) as Record<string, any>;
    expect(request).toMatchObject({ Type: 'deskkms-signing-request', RequestId: id, Key: 'alias/release', Format: 'ssh', Options: { Namespace: 'file' }, Note: 'release 1.0' });
    expect(request.Files.map((f: { Name: string; Size: number }) => [f.Name, f.Size])).toEqual([
      ['app-1.0.tar.gz', 3 << 20],
      ['app-1.0.sha256', readFileSync(sums).length],
    ]);
    // The request carries hashes, never the files: it is small.
    expect(readFileSync(join(online, 'req.json')).length).toBeLessThan(2048);
    expect(request.Files[0].Sha256).toBe(execFileSync('sha256sum', [join(online, 'app-1.0.tar.gz')], { encoding: 'utf8' }).slice(0, 64));

    carry('req.json');
    const shown = await atStation(['request', 'show', 'req.json']);
    const review = ok(shown);
    expect(review).toMatchObject({ RequestId: id, Format: 'ssh', Problems: [], Key: { Reference: 'alias/release', KeyId: key.keyId, KeyVersionId: key.versionId, Newest: true, KeyState: 'Enabled' } });
    expect(review.Key.FormatFingerprint).toMatch(/^SHA256:/);
    expect(shown.stderr).toContain('release 1.0');
    expect(shown.stderr).toContain(request.Files[0].Sha256);
    // Reviewing signs nothing.
    expect(await signsFor(key.keyId, id)).toEqual([]);

    const approved = ok(await atStation(['request', 'approve', 'req.json', '-o', 'resp.json', '--yes']));
    expect(approved).toMatchObject({ RequestId: id, KeyId: key.keyId, KeyVersionId: key.versionId, Files: 2 });
    carry('resp.json', station, online);

    const finished = await cli(['request', 'finish', '--request', 'req.json', '--response', 'resp.json']);
    const answer = ok(finished);
    expect(answer.Files.map((f: { Output: string }) => f.Output)).toEqual([join(online, 'app-1.0.tar.gz.sig'), join(online, 'app-1.0.sha256.sig')]);
    expect(answer.PublicMaterial).toEqual([join(online, 'release.pub')]);
    expect(finished.stderr).toMatch(/signed by ECDSA key SHA256:/);
    expect(finished.stderr).toContain(review.Key.FormatFingerprint);

    // ssh-keygen, a peer nobody here wrote, verifies both against the published key.
    const pub = readFileSync(join(online, 'release.pub'), 'utf8').trim();
    const signers = write(online, 'allowed_signers', `release@example.org ${pub}\n`);
    for (const file of ['app-1.0.tar.gz', 'app-1.0.sha256']) {
      const r = spawnSync('ssh-keygen', ['-Y', 'verify', '-f', signers, '-I', 'release@example.org', '-n', 'file', '-s', join(online, `${file}.sig`)], { input: readFileSync(join(online, file)) });
      expect([file, r.status, r.stdout.toString()]).toEqual([file, 0, expect.stringContaining('Good "file" signature for release@example.org')]);
    }

    // The audit: one AsymmetricSign per file as cli:request:<id>:ssh, then the approval.
    const entries = await audit(key.keyId);
    expect((await signsFor(key.keyId, id)).map((e) => [e.caller, e.code])).toEqual([
      [`cli:request:${id}:ssh`, 'OK'],
      [`cli:request:${id}:ssh`, 'OK'],
    ]);
    expect(entries.filter((e) => e.action === 'ApproveSigningRequest')).toEqual([expect.objectContaining({ caller: `cli:request:${id}`, code: 'OK', keyId: key.keyId })]);

    // finish again: identical outputs are kept; a different existing file is refused without --force.
    ok(await cli(['request', 'finish', '--request', 'req.json', '--response', 'resp.json']));
    write(online, 'app-1.0.sha256.sig', 'something else');
    expect(refused(await cli(['request', 'finish', '--request', 'req.json', '--response', 'resp.json']))).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('already exists; give --force') });
    expect(readFileSync(join(online, 'app-1.0.sha256.sig'), 'utf8')).toBe('something else');
    ok(await cli(['request', 'finish', '--request', 'req.json', '--response', 'resp.json', '--force']));
    expect(readFileSync(join(online, 'app-1.0.sha256.sig'), 'utf8')).toMatch(/^-----BEGIN SSH SIGNATURE-----/);
    expect(readdirSync(online).filter((n) => n.endsWith('.partial'))).toEqual([]);
  });
});
