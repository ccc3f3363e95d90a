// deskkms request create | show | approve | reject | finish as an operator runs them: an online
// directory without a vault makes the request, the station vault approves it, finish checks the
// response against the request and the files and writes the ecosystem files, which ssh-keygen
// (and openssl) verify. Then the refusals, each with its Code, and the audit: a refused or
// rejected request signs nothing (no AsymmetricSign for it), and every decision is recorded with
// the request id in its caller. Every format against its own peer is test/integration/airgap-peers.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
/** The online machine's own HOME and XDG directories: a vault opened by mistake would land there, where the test looks. */
let onlineEnv: Record<string, string>;

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
    env: { PATH: process.env.PATH, ...(options.env ?? onlineEnv) },
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

/** A refusal: exit 2 for the command line's own problems, 1 for the station's verdict on an open vault (command.ts: exitStatusOf). */
function refused(r: Run, status = 2): { Code: string; Message: string } {
  expect(r.status, `expected a refusal; stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(status);
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
  const home = join(dir.path, 'online-home');
  mkdirSync(home);
  onlineEnv = { HOME: home, XDG_DATA_HOME: join(home, 'xdg-data'), XDG_CONFIG_HOME: join(home, 'xdg-config'), XDG_STATE_HOME: join(home, 'xdg-state'), XDG_CACHE_HOME: join(home, 'xdg-cache') };
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
    // Nor at the default location of the online machine's HOME (where an accidental default open would put it).
    expect(existsSync(join(onlineEnv.XDG_DATA_HOME!, 'deskkms'))).toBe(false);
    expect(existsSync(join(onlineEnv.HOME!, '.local', 'share', 'deskkms'))).toBe(false);
    expect(readdirSync(onlineEnv.HOME!)).toEqual([]);
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
    // Nothing pinned the key (create had no --public-key, nor finish): finish says whose key it trusted.
    expect(answer.Pinned).toBe(false);
    expect(finished.stderr).toContain(`unpinned: the response's key SHA256:${review.Key.SpkiSha256 as string} was trusted`);

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

  it('finish writes all or nothing: a name taken between the check and the write (a dangling symlink) leaves no signature written', async () => {
    await makeKey('EC_P256', 'alias/partial');
    const where = join(online, 'partial');
    mkdirSync(where);
    write(where, 'a.tgz', 'AAA\n');
    write(where, 'b.tgz', 'BBB\n');
    const id = await create(['--key', 'alias/partial', '--format', 'ssh', '--in', 'partial/a.tgz', '--in', 'partial/b.tgz'], 'partial.json');
    carry('partial.json');
    ok(await atStation(['request', 'approve', 'partial.json', '-o', 'partial-resp.json', '--yes']));
    carry('partial-resp.json', station, online);
    // The last target, the public key file, is a dangling symlink: reading it says ENOENT (so the
    // check before writing passes), link(2) says EEXIST, after both signatures were moved into place.
    symlinkSync('/nonexistent/deskkms-partial', join(where, 'partial.pub'));
    const r = refused(await cli(['request', 'finish', '--request', 'partial.json', '--response', 'partial-resp.json', '--dir', 'partial']));
    expect(r).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('partial.pub already exists') });
    expect(readdirSync(where).sort()).toEqual(['a.tgz', 'b.tgz', 'partial.pub']);
    // Once the name is free, the same finish writes all three.
    rmSync(join(where, 'partial.pub'));
    const done = ok(await cli(['request', 'finish', '--request', 'partial.json', '--response', 'partial-resp.json', '--dir', 'partial']));
    expect(done.Files.length).toBe(2);
    expect(readdirSync(where).sort()).toEqual(['a.tgz', 'a.tgz.sig', 'b.tgz', 'b.tgz.sig', 'partial.pub']);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

/** The request file with its Created replaced (a request made by a machine with another clock). */
function redate(name: string, created: Date): void {
  const path = join(online, name);
  const text = readFileSync(path, 'utf8');
  const iso = created.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const changed = text.replace(/"Created":"[^"]+"/, `"Created":"${iso}"`);
  expect(changed).not.toBe(text);
  writeFileSync(path, changed);
}

describe('deskkms request: refusals, each with its Code, and the audit', () => {
  let key: { keyId: string; versionId: string };

  beforeAll(async () => {
    key = await makeKey('EC_P256', 'alias/refusals');
    write(online, 'r1.tgz', 'refusal test artifact one\n');
    write(online, 'r2.tgz', 'refusal test artifact two\n');
  });

  it('finish refuses a tampered response, another request\'s response and a changed file (Request.Mismatch), writing nothing', async () => {
    await create(['--key', 'alias/refusals', '--format', 'ssh', '--in', 'r1.tgz'], 'mine.json');
    await create(['--key', 'alias/refusals', '--format', 'ssh', '--in', 'r1.tgz'], 'theirs.json');
    carry('mine.json');
    carry('theirs.json');
    ok(await atStation(['request', 'approve', 'mine.json', '-o', 'mine-resp.json', '--yes']));
    ok(await atStation(['request', 'approve', 'theirs.json', '-o', 'theirs-resp.json', '--yes']));
    carry('mine-resp.json', station, online);
    carry('theirs-resp.json', station, online);
    const finish = (response: string, extra: string[] = []) => cli(['request', 'finish', '--request', 'mine.json', '--response', response, ...extra]);

    // A flipped byte in the signature the response carries.
    const response = JSON.parse(readFileSync(join(online, 'mine-resp.json'), 'utf8')) as { Files: { Signature: string }[] };
    const sig = Buffer.from(response.Files[0]!.Signature, 'base64');
    const lines = sig.toString('utf8').split('\n');
    lines[4] = lines[4]!.replace(/[A-Za-z]/, (c) => (c === 'A' ? 'B' : 'A'));
    response.Files[0]!.Signature = Buffer.from(lines.join('\n')).toString('base64');
    write(online, 'tampered-resp.json', `${JSON.stringify(response)}\n`);
    expect(refused(await finish('tampered-resp.json'))).toMatchObject({ Code: 'Request.Mismatch', Message: expect.stringContaining('r1.tgz: the signature') });
    expect(existsSync(join(online, 'r1.tgz.sig'))).toBe(false);

    expect(refused(await finish('theirs-resp.json'))).toMatchObject({ Code: 'Request.Mismatch', Message: expect.stringMatching(/answers request .*, not this request/) });

    const original = readFileSync(join(online, 'r1.tgz'));
    write(online, 'r1.tgz', 'refusal test artifact ONE\n');
    expect(refused(await finish('mine-resp.json'))).toMatchObject({ Code: 'Request.Mismatch', Message: expect.stringContaining('r1.tgz is not the file the request was made for') });
    write(online, 'r1.tgz', original);
    expect(existsSync(join(online, 'r1.tgz.sig'))).toBe(false);

    // A key pinned at finish that is not the signer's.
    const stranger = await makeKey('EC_P256');
    write(online, 'stranger.pem', ok(await atStation(['GetPublicKey', '--KeyId', stranger.keyId, '--KeyVersionId', stranger.versionId])).PublicKey as string);
    expect(refused(await finish('mine-resp.json', ['--public-key', 'stranger.pem']))).toMatchObject({ Code: 'Request.Mismatch', Message: expect.stringContaining('not by the --public-key given') });
    // And the real one is accepted, pinned: no "unpinned" line.
    write(online, 'refusals.pem', ok(await atStation(['GetPublicKey', '--KeyId', key.keyId, '--KeyVersionId', key.versionId])).PublicKey as string);
    const pinned = await finish('mine-resp.json', ['--public-key', 'refusals.pem']);
    expect(ok(pinned)).toMatchObject({ KeyId: key.keyId, Pinned: true });
    expect(pinned.stderr).not.toContain('unpinned');
    // create warns when nothing pins the key, and not when --public-key does.
    const unpinnedCreate = await cli(['request', 'create', '--key', 'alias/refusals', '--format', 'ssh', '--in', 'r1.tgz', '-o', 'unpinned.json']);
    expect(unpinnedCreate.stderr).toContain("no --public-key pins the station's key: finish will trust the key the response carries");
    const pinnedCreate = await cli(['request', 'create', '--key', 'alias/refusals', '--public-key', 'refusals.pem', '--format', 'ssh', '--in', 'r1.tgz', '-o', 'pinned.json']);
    expect(ok(pinnedCreate).RequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(pinnedCreate.stderr).not.toContain('no --public-key');
  });

  it('the station refuses, signing nothing: expired, future-dated, unknown key, disabled key; each approval refusal is audited with its Code', async () => {
    const hour = 3_600_000;
    const cases: [string, string[], (name: string) => void, string, string[]][] = [
      ['expired', ['--key', 'alias/refusals'], (n) => redate(n, new Date(Date.now() - 2 * 60_000)), 'Request.Expired', ['--max-age', '1m']],
      ['expired-default', ['--key', 'alias/refusals'], (n) => redate(n, new Date(Date.now() - 25 * hour)), 'Request.Expired', []],
      ['future', ['--key', 'alias/refusals'], (n) => redate(n, new Date(Date.now() + hour)), 'Request.Expired', []],
      ['unknown-alias', ['--key', 'alias/no-such-key'], () => undefined, 'Forbidden.AliasNotFound', []],
      ['unknown-key', ['--key', '00000000-0000-4000-8000-000000000000'], () => undefined, 'Forbidden.KeyNotFound', []],
    ];
    const disabled = await makeKey('EC_P256', 'alias/disabled');
    ok(await atStation(['DisableKey', '--KeyId', disabled.keyId]));
    cases.push(['disabled', ['--key', 'alias/disabled'], () => undefined, 'Rejected.Disabled', []]);
    for (const [name, args, change, code, flags] of cases) {
      const id = await create([...args, '--format', 'ssh', '--in', 'r2.tgz'], `${name}.json`);
      change(`${name}.json`);
      carry(`${name}.json`);
      const shown = await atStation(['request', 'show', `${name}.json`, ...flags]);
      const status = code === 'InvalidParameter' || code === 'MissingParameter' ? 2 : 1;
      expect([name, refused(shown, status).Code]).toEqual([name, code]);
      expect((JSON.parse(shown.stdout) as { Problems: { Code: string }[] }).Problems.map((p) => p.Code)).toEqual([code]);
      expect(shown.stderr).toContain('cannot be approved:');
      const approved = await atStation(['request', 'approve', `${name}.json`, '-o', `${name}-resp.json`, '--yes', ...flags]);
      expect([name, refused(approved, status).Code]).toEqual([name, code]);
      expect(existsSync(join(station, `${name}-resp.json`))).toBe(false);
      const entries = (ok(await atStation(['ListAuditEntries'])) as { Entries: Entry[] }).Entries.filter((e) => e.caller.includes(id));
      expect([name, entries.filter((e) => e.action === 'AsymmetricSign')]).toEqual([name, []]);
      expect([name, entries.filter((e) => e.action === 'ApproveSigningRequest').map((e) => [e.caller, e.code])]).toEqual([name, [[`cli:request:${id}`, code]]]);
    }
    expect(refused(await atStation(['request', 'show', 'expired.json', '--max-age', '12 hours']))).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('--max-age') });
  });

  it('the operator decides: no --yes without a terminal signs nothing; "no" on a terminal rejects; "yes" signs; reject is audited', async () => {
    // The note is outside text: a right-to-left override in it is shown escaped, never as itself.
    const noTty = await create(['--key', 'alias/refusals', '--format', 'raw', '--in', 'r2.tgz', '--note', 'fix \u202egpj.exe'], 'notty.json');
    carry('notty.json');
    const unconfirmed = await atStation(['request', 'approve', 'notty.json', '-o', 'notty-resp.json']);
    expect(refused(unconfirmed)).toMatchObject({ Code: 'MissingParameter', Message: expect.stringContaining('--yes') });
    expect(unconfirmed.stderr).toContain('note             fix \\u202Egpj.exe');
    expect(unconfirmed.stderr).not.toContain('\u202e');
    const shown = await atStation(['request', 'show', 'notty.json']);
    expect(ok(shown).Note).toBe('fix \u202egpj.exe');
    expect(shown.stdout).toContain('\\u202e');
    expect(existsSync(join(station, 'notty-resp.json'))).toBe(false);

    const said = await create(['--key', 'alias/refusals', '--format', 'raw', '--in', 'r2.tgz'], 'said-no.json');
    carry('said-no.json');
    const no = await atStation(['request', 'approve', 'said-no.json', '-o', 'said-no-resp.json'], { tty: true, answer: 'no' });
    expect(no.stderr).toContain('Type "yes" to sign');
    expect(refused(no, 1)).toMatchObject({ Code: 'Request.Rejected' });
    expect(existsSync(join(station, 'said-no-resp.json'))).toBe(false);

    const rejected = await create(['--key', 'alias/refusals', '--format', 'raw', '--in', 'r2.tgz'], 'rejected.json');
    carry('rejected.json');
    expect(ok(await atStation(['request', 'reject', 'rejected.json']))).toEqual({ RequestId: rejected, Result: 'Rejected' });

    const yes = await create(['--key', 'alias/refusals', '--format', 'raw', '--in', 'r2.tgz'], 'said-yes.json');
    carry('said-yes.json');
    ok(await atStation(['request', 'approve', 'said-yes.json', '-o', 'said-yes-resp.json'], { tty: true, answer: 'yes' }));

    const entries = await audit(key.keyId);
    const of = (id: string) => entries.filter((e) => e.caller.includes(id)).filter((e) => ['AsymmetricSign', 'ApproveSigningRequest', 'RejectSigningRequest'].includes(e.action));
    expect(of(noTty)).toEqual([]);
    expect(of(said).map((e) => [e.action, e.caller, e.code])).toEqual([['RejectSigningRequest', `cli:request:${said}`, 'Request.Rejected']]);
    expect(of(rejected).map((e) => [e.action, e.caller, e.code])).toEqual([['RejectSigningRequest', `cli:request:${rejected}`, 'Request.Rejected']]);
    expect(of(yes).map((e) => [e.action, e.caller, e.code])).toEqual([
      ['AsymmetricSign', `cli:request:${yes}:raw`, 'OK'],
      ['ApproveSigningRequest', `cli:request:${yes}`, 'OK'],
    ]);
    // ListAuditEntries filtered by Action finds the decisions, each naming its request.
    const approvals = (ok(await atStation(['ListAuditEntries', '--KeyId', key.keyId, '--Action', 'RejectSigningRequest'])) as { Entries: Entry[] }).Entries;
    expect(approvals.map((e) => e.caller)).toEqual(expect.arrayContaining([`cli:request:${said}`, `cli:request:${rejected}`]));
  });

  it('approve prepares its response file before signing: a directory that is not there is refused and nothing is signed', async () => {
    const id = await create(['--key', 'alias/refusals', '--format', 'raw', '--in', 'r2.tgz'], 'nodir.json');
    carry('nodir.json');
    const r = refused(await atStation(['request', 'approve', 'nodir.json', '-o', join('no-such-dir', 'resp.json'), '--yes']));
    expect(r).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringMatching(/^--out: .*no-such-dir.*nothing was signed/) });
    const entries = (ok(await atStation(['ListAuditEntries'])) as { Entries: Entry[] }).Entries.filter((e) => e.caller.includes(id));
    expect(entries).toEqual([]);
    expect(readdirSync(station).filter((n) => n.includes('.partial'))).toEqual([]);
  });

  it('create needs no vault and refuses what cannot cross: flags of another subcommand or format, stdin, a name twice, an existing output', async () => {
    const base = ['request', 'create', '--key', 'alias/refusals', '--format', 'ssh'];
    expect(refused(await cli([...base, '--in', 'r1.tgz', '--yes', '-o', 'x.json']))).toMatchObject({ Code: 'InvalidParameter', Message: '--yes: is for request approve, not request create' });
    expect(refused(await cli([...base, '--in', 'r1.tgz', '--user-id', 'x', '-o', 'x.json']))).toMatchObject({ Code: 'InvalidParameter', Message: '--user-id: is for the openpgp format, not ssh' });
    expect(refused(await cli([...base, '--in', '-', '-o', 'x.json']))).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('stdin') });
    mkdirSync(join(online, 'sub'), { recursive: true });
    write(join(online, 'sub'), 'r1.tgz', 'another r1\n');
    expect(refused(await cli([...base, '--in', 'r1.tgz', '--in', 'sub/r1.tgz', '-o', 'x.json']))).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('two files are named r1.tgz') });
    expect(refused(await cli([...base, '--in', 'r1.tgz', '-o', 'mine.json']))).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('already exists; give --force') });
    expect(refused(await cli([...base, '--in', 'missing.tgz', '-o', 'x.json']))).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('no such file') });
    expect(existsSync(join(online, 'x.json'))).toBe(false);
    expect(refused(await cli(['request', 'sign']))).toMatchObject({ Code: 'InvalidParameter' });
  });

  it('--qr writes the request and the response as PNG frames, and finish reads the response from them', async () => {
    const id = await create(['--key', 'alias/refusals', '--format', 'sigstore', '--in', 'r1.tgz', '--in', 'r2.tgz', '--qr', 'req-frames'], 'qr.json');
    const frames = readdirSync(join(online, 'req-frames'));
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.every((f) => /^qr-\d{2,}\.png$/.test(f))).toBe(true);
    // The station reads the request from its frames (a camera's pictures), not the file.
    mkdirSync(join(station, 'req-frames'));
    for (const f of frames) carry(join('req-frames', f));
    ok(await atStation(['request', 'approve', 'req-frames', '-o', 'qr-resp.json', '--yes', '--qr', 'resp-frames']));
    const respFrames = readdirSync(join(station, 'resp-frames'));
    mkdirSync(join(online, 'resp-frames'));
    for (const f of respFrames) carry(join('resp-frames', f), station, online);
    // -o names a directory of its own for the outputs (made when missing).
    const finished = ok(await cli(['request', 'finish', '--request', 'qr.json', '--response', 'resp-frames', '-o', 'qr-out']));
    expect(finished.Files.map((f: { Output: string }) => f.Output)).toEqual([join(online, 'qr-out', 'r1.tgz.sigstore.json'), join(online, 'qr-out', 'r2.tgz.sigstore.json')]);
    expect(readdirSync(join(online, 'qr-out')).sort()).toEqual(['r1.tgz.sigstore.json', 'r2.tgz.sigstore.json', 'refusals.pem']);
    expect((await audit(key.keyId)).filter((e) => e.action === 'AsymmetricSign' && e.caller === `cli:request:${id}:sigstore`)).toHaveLength(2);
  });
});
