// The app's release-format signatures (Sign.Formats / Begin / Update / Finish / Abort) against a
// real passphrase vault through AppSession.call: a file streamed in chunks comes back as the
// signature file under its ecosystem's name, verified here by node:crypto (raw) or ssh-keygen
// (ssh), a changed byte refused by the same verifier; the one AsymmetricSign is audited as
// "<caller>:<format>"; and what is refused: bad parameters, a spec the format cannot carry (SM2
// with ssh, with the format's reason), too many sessions, sessions dropped by Lock or idle time,
// and a Begin that a Lock overtook while it chose its key.
import { spawnSync } from 'node:child_process';
import { constants, createPublicKey, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as formatSigning from '../actions/format-signing.ts';
import { encodeBase64 } from '../contract/base64.ts';
import { AppSession } from './app-session.ts';
import { IDLE_MS, MAX_SESSIONS, StreamSessions } from './stream-sessions.ts';
import { appCalls } from '../../test/support/app-calls.ts';

// chooseSigningKey is the real one; a test wraps one call of it to lock the vault while Sign.Begin
// awaits it (the interleaving a slow dispatch allows).
vi.mock(import('../actions/format-signing.ts'), async (importOriginal) => {
  const actual = await importOriginal();
  return { ...actual, chooseSigningKey: vi.fn(actual.chooseSigningKey) };
});

const CALLER = 'test';
let dir: string;
let app: AppSession;
const keys: Record<string, { KeyId: string; KeyVersionId: string; pem: string }> = {};

const { value, refusal } = appCalls(() => app);

async function makeKey(KeySpec: string): Promise<{ KeyId: string; KeyVersionId: string; pem: string }> {
  const { KeyMetadata } = await value('Kms.Call', { Action: 'CreateKey', Params: { KeySpec, KeyUsage: 'SIGN/VERIFY' } });
  const [{ KeyVersionId }] = (await value('Kms.Call', { Action: 'ListKeyVersions', Params: { KeyId: KeyMetadata.KeyId } })).KeyVersions.KeyVersion;
  const { PublicKey } = await value('Kms.Call', { Action: 'GetPublicKey', Params: { KeyId: KeyMetadata.KeyId, KeyVersionId } });
  return { KeyId: KeyMetadata.KeyId, KeyVersionId, pem: PublicKey };
}

/** Signs `message` in `format`, streamed in chunks of `chunk` bytes. */
async function sign(key: { KeyId: string; KeyVersionId: string }, format: string, message: Uint8Array, extra: Record<string, unknown> = {}, chunk = 100_000) {
  const begun = await value('Sign.Begin', { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Format: format, FileName: 'release.tar', ...extra });
  let hashed = 0;
  for (let offset = 0; offset < message.length; offset += chunk) {
    hashed = (await value('Sign.Update', { SessionId: begun.SessionId, Chunk: encodeBase64(message.subarray(offset, offset + chunk)) })).BytesHashed;
  }
  expect(hashed).toBe(message.length);
  const finished = await value('Sign.Finish', { SessionId: begun.SessionId });
  return { begun, finished, file: Buffer.from(finished.Signature as string, 'base64') };
}

const MESSAGE = new Uint8Array(randomBytes(250_000 + 17));
const CHANGED = (() => {
  const copy = new Uint8Array(MESSAGE);
  copy[123_456]! ^= 0x01;
  return copy;
})();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deskkms-app-sign-'));
  app = new AppSession({ vaultDir: join(dir, 'vault'), caller: CALLER });
  await value('Vault.Create', { Protection: 'passphrase', Passphrase: 'correct horse battery staple' });
  for (const spec of ['EC_P256', 'RSA_2048', 'EC_SM2']) keys[spec] = await makeKey(spec);
});

afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Sign.* (app)', () => {
  it('raw: every spec, streamed; node:crypto verifies the file named FILE.sig, refuses a changed byte; audited as test:raw', async () => {
    for (const [spec, algorithm] of [
      ['EC_P256', undefined],
      ['RSA_2048', 'RSA_PSS_SHA_256'],
      ['EC_SM2', undefined],
    ] as const) {
      const key = keys[spec]!;
      const { begun, finished, file } = await sign(key, 'raw', MESSAGE, algorithm ? { Algorithm: algorithm } : {});
      expect(begun).toMatchObject({ Format: 'raw', KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, FileName: 'release.tar.sig' });
      expect(finished).toMatchObject({ Format: 'raw', FileName: 'release.tar.sig', MediaType: 'application/octet-stream', KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, BytesSigned: MESSAGE.length });
      const publicKey = createPublicKey(key.pem);
      const check = (message: Uint8Array) =>
        spec === 'RSA_2048'
          ? verify('sha256', message, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, file)
          : verify('sha256', message, publicKey, file);
      if (spec === 'EC_SM2') {
        // node:crypto has no SM2 distinguishing-ID option: OpenSSL checks SM2DSA with the default ID.
        const files = { pub: join(dir, 'sm2.pem'), sig: join(dir, 'sm2.sig'), msg: join(dir, 'msg.bin'), bad: join(dir, 'bad.bin') };
        writeFileSync(files.pub, key.pem);
        writeFileSync(files.sig, file);
        writeFileSync(files.msg, MESSAGE);
        writeFileSync(files.bad, CHANGED);
        const openssl = (msg: string) => spawnSync('openssl', ['dgst', '-sm3', '-verify', files.pub, '-sigopt', 'distid:1234567812345678', '-signature', files.sig, msg], { encoding: 'utf8' });
        expect(openssl(files.msg).stdout).toContain('Verified OK');
        expect(openssl(files.bad).stdout).not.toContain('Verified OK');
      } else {
        expect(check(MESSAGE), spec).toBe(true);
        expect(check(CHANGED), spec).toBe(false);
      }
    }
    const entries = (await value('Audit.List', { Action: 'AsymmetricSign', Limit: 10 })).Entries;
    expect(entries.slice(0, 3).map((e: any) => [e.caller, e.code, e.keyId])).toEqual([
      [`${CALLER}:raw`, 'OK', keys.EC_SM2!.KeyId],
      [`${CALLER}:raw`, 'OK', keys.RSA_2048!.KeyId],
      [`${CALLER}:raw`, 'OK', keys.EC_P256!.KeyId],
    ]);
  });

  it('ssh: ssh-keygen -Y check-novalidate accepts FILE.sig and refuses a changed byte; SM2 is refused with the format reason', async () => {
    for (const spec of ['EC_P256', 'RSA_2048'] as const) {
      const { finished, file } = await sign(keys[spec]!, 'ssh', MESSAGE, { Namespace: 'file' });
      expect(finished).toMatchObject({ Format: 'ssh', FileName: 'release.tar.sig' });
      expect(file.toString('latin1')).toMatch(/^-----BEGIN SSH SIGNATURE-----\n/);
      const files = { sig: join(dir, `${spec}.ssh.sig`), msg: join(dir, 'ssh-msg.bin'), bad: join(dir, 'ssh-bad.bin') };
      writeFileSync(files.sig, file);
      writeFileSync(files.msg, MESSAGE);
      writeFileSync(files.bad, CHANGED);
      const check = (msg: string) => spawnSync('sh', ['-c', 'ssh-keygen -Y check-novalidate -n file -s "$1" < "$2"', 'sh', files.sig, msg], { encoding: 'utf8' });
      const good = check(files.msg);
      expect(good.status, good.stderr).toBe(0);
      expect(good.stdout + good.stderr).toMatch(/Good "file" signature/);
      expect(check(files.bad).status).not.toBe(0);
      // Another namespace: the signature is for "file" only.
      const other = spawnSync('sh', ['-c', 'ssh-keygen -Y check-novalidate -n git -s "$1" < "$2"', 'sh', files.sig, files.msg], { encoding: 'utf8' });
      expect(other.status).not.toBe(0);
    }
    const [entry] = (await value('Audit.List', { Action: 'AsymmetricSign', Limit: 1 })).Entries;
    expect(entry).toMatchObject({ caller: `${CALLER}:ssh`, code: 'OK', keyId: keys.RSA_2048!.KeyId });

    const sm2 = keys.EC_SM2!;
    const formats = (await value('Sign.Formats', { KeySpec: 'EC_SM2' })).Formats as { Format: string; Extension: string; Unsupported?: string }[];
    const ssh = formats.find((f) => f.Format === 'ssh')!;
    expect(ssh.Extension).toBe('.sig');
    expect(ssh.Unsupported).toMatch(/SM2/);
    expect(formats.find((f) => f.Format === 'raw')!.Unsupported).toBeUndefined();
    expect((await value('Sign.Formats', { KeySpec: 'EC_P256' })).Formats.find((f: any) => f.Format === 'ssh').Unsupported).toBeUndefined();
    const refused = await refusal('Sign.Begin', { KeyId: sm2.KeyId, KeyVersionId: sm2.KeyVersionId, Format: 'ssh', FileName: 'release.tar' });
    expect(refused.Code).toBe('Format.UnsupportedKeySpec');
    expect(refused.Message).toContain(ssh.Unsupported);
  });

  it('refuses malformed requests before any key is touched', async () => {
    const key = keys.EC_P256!;
    const base = { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Format: 'raw', FileName: 'release.tar' };
    for (const [params, pattern] of [
      [{ ...base, Format: 'pkcs7' }, /Format: must be one of raw, ssh, openpgp, sigstore, jws/],
      [{ ...base, FileName: 'dir/release.tar' }, /FileName: must be a file name/],
      [{ ...base, FileName: 'a\\b' }, /FileName: must be a file name/],
      [{ ...base, FileName: 'bad\nname' }, /FileName: must be a file name/],
      [{ ...base, FileName: '..' }, /FileName: must be a file name/],
      [{ ...base, FileName: '' }, /FileName: is empty/],
      [{ ...base, FileName: 'x'.repeat(256) }, /FileName: is too long/],
      [{ ...base, Namespace: 'file' }, /Namespace: is only for Format ssh/],
      [{ ...base, Format: 'ssh', Namespace: 'has space' }, /Namespace: must be printable ASCII/],
      [{ ...base, Detached: true }, /Detached: is only for Format jws/],
      [{ ...base, Algorithm: 'MD5' }, /Algorithm: must be one of/],
      [{ ...base, KeyVersionId: 'v1' }, /KeyVersionId: must be a key version UUID/],
      [{ ...base, Extra: 1 }, /Extra/],
    ] as const) {
      const refused = await refusal('Sign.Begin', params);
      expect(refused.Code, JSON.stringify(params)).toBe('InvalidParameter');
      expect(refused.Message).toMatch(pattern);
    }
    expect((await refusal('Sign.Begin', { ...base, FileName: undefined })).Code).toBe('MissingParameter');
    expect((await refusal('Sign.Formats', { KeySpec: 'DSA' })).Code).toBe('InvalidParameter');
    // An algorithm the key cannot use: the format refuses it.
    expect((await refusal('Sign.Begin', { ...base, Algorithm: 'RSA_PSS_SHA_256' })).Code).toBe('InvalidParameter');
    // A key that is not there: the refusal of chooseSigningKey's DescribeKeyVersion.
    expect((await refusal('Sign.Begin', { ...base, KeyVersionId: '00000000-0000-4000-8000-000000000000' })).Code).toMatch(/NotFound/);

    const { SessionId } = await value('Sign.Begin', base);
    expect((await refusal('Sign.Update', { SessionId, Chunk: 'not base64!' })).Code).toBe('InvalidParameter');
    expect((await refusal('Sign.Update', { SessionId, Chunk: 'A'.repeat(Math.ceil((4 * 1024 * 1024) / 3) * 4 + 4) })).Message).toMatch(/Chunk: is longer than/);
    expect((await refusal('Sign.Update', { SessionId: '00000000-0000-4000-8000-000000000000', Chunk: 'AAAA' })).Message).toMatch(/no signature in progress/);
    expect((await value('Sign.Abort', { SessionId })).Aborted).toBe(true);
    expect((await refusal('Sign.Finish', { SessionId })).Message).toMatch(/no signature in progress/);
    // A digest session is not a signature session.
    const digest = await value('Digest.Begin', { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Algorithm: 'ECDSA_SHA_256' });
    expect((await refusal('Sign.Finish', { SessionId: digest.SessionId })).Message).toMatch(/no signature in progress/);
    await value('Digest.Abort', { SessionId: digest.SessionId });
  });

  it(`holds at most ${MAX_SESSIONS} signatures at once, and Lock drops them`, async () => {
    const key = keys.EC_P256!;
    const base = { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Format: 'raw', FileName: 'f' };
    const ids: string[] = [];
    for (let i = 0; i < MAX_SESSIONS; i++) ids.push((await value('Sign.Begin', base)).SessionId);
    expect((await refusal('Sign.Begin', base)).Message).toMatch(`Sign.Begin: ${MAX_SESSIONS} signatures are already in progress`);
    // Digests are counted apart.
    const digest = await value('Digest.Begin', { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Algorithm: 'ECDSA_SHA_256' });
    expect((await value('Sign.Abort', { SessionId: ids.pop() })).Aborted).toBe(true);
    ids.push((await value('Sign.Begin', base)).SessionId);
    await value('Sign.Update', { SessionId: ids[0], Chunk: encodeBase64(new TextEncoder().encode('hello')) });

    expect((await value('Vault.Lock')).Locked).toBe(true);
    expect((await refusal('Sign.Update', { SessionId: ids[0], Chunk: 'AAAA' })).Code).toBe('Vault.Locked');
    expect((await refusal('Sign.Finish', { SessionId: ids[0] })).Code).toBe('Vault.Locked');
    expect((await refusal('Sign.Begin', base)).Code).toBe('Vault.Locked');
    await value('Vault.Unlock', { Passphrase: 'correct horse battery staple' });
    for (const id of ids) expect((await refusal('Sign.Finish', { SessionId: id })).Message).toMatch(/no signature in progress/);
    expect((await refusal('Digest.Finish', { SessionId: digest.SessionId })).Message).toMatch(/no digest in progress/);
    // All room again.
    for (let i = 0; i < MAX_SESSIONS; i++) await value('Sign.Abort', { SessionId: (await value('Sign.Begin', base)).SessionId });
  });

  it('a Lock while Sign.Begin or Digest.Begin is choosing its key refuses the session (Vault.Locked): none outlives the lock to finish after the next unlock', async () => {
    const key = keys.EC_P256!;
    const base = { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Format: 'raw', FileName: 'f' };
    const choose = vi.mocked(formatSigning.chooseSigningKey);
    const real = choose.getMockImplementation()!;
    let locked = false;
    choose.mockImplementationOnce(async (...args) => {
      const chosen = await real(...args); // every dispatch done while still unlocked
      expect((await value('Vault.Lock')).Locked).toBe(true); // clears the sessions
      locked = true;
      return chosen;
    });
    const refused = await refusal('Sign.Begin', base);
    expect(locked).toBe(true);
    expect(refused).toMatchObject({ Code: 'Vault.Locked', Message: 'Sign.Begin: the vault was locked while the signature was starting; unlock and begin again' });

    // Digest.Begin awaits GetPublicKey (AppSession's action) the same way.
    await value('Vault.Unlock', { Passphrase: 'correct horse battery staple' });
    const session = app as unknown as { action: (...args: unknown[]) => Promise<unknown> };
    const action = session.action;
    const spy = vi.spyOn(session, 'action').mockImplementationOnce(async (...args) => {
      const answer = await action.apply(app, args);
      expect((await value('Vault.Lock')).Locked).toBe(true);
      return answer;
    });
    const digestRefused = await refusal('Digest.Begin', { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Algorithm: 'ECDSA_SHA_256' });
    spy.mockRestore();
    expect(digestRefused).toMatchObject({ Code: 'Vault.Locked', Message: 'Digest.Begin: the vault was locked while the digest was starting; unlock and begin again' });

    // After the next unlock nothing of those Begins is left, and a new one signs.
    await value('Vault.Unlock', { Passphrase: 'correct horse battery staple' });
    const { file } = await sign(key, 'raw', MESSAGE);
    expect(verify('sha256', MESSAGE, createPublicKey(key.pem), file)).toBe(true);
  });
});

describe('StreamSessions', () => {
  it('drops a session idle for longer than IDLE_MS, and counts bytes per session', () => {
    let now = 1_000_000;
    const fed: number[] = [];
    const sessions = new StreamSessions<{ update(chunk: Uint8Array): void }>({ begin: 'X.Begin', noun: 'thing' }, () => now);
    const a = sessions.open({ update: (c) => fed.push(c.length) });
    const b = sessions.open({ update: (c) => fed.push(-c.length) });
    expect(sessions.update(a, new Uint8Array(3))).toEqual({ BytesHashed: 3 });
    now += IDLE_MS;
    expect(sessions.update(a, new Uint8Array(4))).toEqual({ BytesHashed: 7 });
    now += 1;
    // b was last used IDLE_MS + 1 ago: gone; a was used just now.
    expect(() => sessions.update(b, new Uint8Array(1))).toThrow(/no thing in progress/);
    expect(sessions.size).toBe(1);
    expect(sessions.take(a).bytes).toBe(7);
    expect(() => sessions.take(a)).toThrow(/no thing in progress/);
    expect(fed).toEqual([3, 4]);
    for (let i = 0; i < MAX_SESSIONS; i++) sessions.open({ update: () => undefined });
    expect(() => sessions.open({ update: () => undefined })).toThrow(`X.Begin: ${MAX_SESSIONS} things are already in progress`);
    now += IDLE_MS + 1;
    expect(() => sessions.open({ update: () => undefined })).not.toThrow();
    expect(sessions.size).toBe(1);
  });
});
