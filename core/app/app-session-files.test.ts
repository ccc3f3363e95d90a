// Files the host reads itself (Electron: the user picks one in main's own dialog, main grants it
// with AppSession.grantFile, and the renderer names only its handle): Digest.UpdateFile and
// Sign.UpdateFile against a real passphrase vault. The digest is node:crypto's SHA-256 of the
// file and the raw signature verifies with node:crypto (OpenSSL); parts must come in order; a file
// that changes while it is read, an unknown handle, a directory, a FIFO and a missing file are refused;
// a lock drops every grant.
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAM_PART_BYTES, STREAM_PART_MAX } from '../contract/app-api.ts';
import { AppSession } from './app-session.ts';
import { MAX_GRANTS } from './file-grants.ts';
import { appCalls } from '../../test/support/app-calls.ts';

const PASSPHRASE = 'correct horse battery staple';
let dir: string;
let app: AppSession;
let key: { KeyId: string; KeyVersionId: string; pem: string };
const FILE_BYTES = new Uint8Array(randomBytes(2 * STREAM_PART_BYTES + 4321));
let filePath: string;

const { value, refusal } = appCalls(() => app);

/** Feeds every part of the granted file to the session, in order; returns the last BytesHashed. */
async function feed(method: 'Digest.UpdateFile' | 'Sign.UpdateFile', SessionId: string, Handle: string, size: number): Promise<number> {
  let hashed = 0;
  for (let Offset = 0; Offset < size; Offset += STREAM_PART_BYTES) {
    hashed = (await value(method, { SessionId, Handle, Offset, Length: Math.min(STREAM_PART_BYTES, size - Offset) })).BytesHashed;
  }
  return hashed;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deskkms-app-files-'));
  filePath = join(dir, 'release.tar');
  writeFileSync(filePath, FILE_BYTES);
  app = new AppSession({ vaultDir: join(dir, 'vault'), caller: 'test' });
  await value('Vault.Create', { Protection: 'passphrase', Passphrase: PASSPHRASE });
  const { KeyMetadata } = await value('Kms.Call', { Action: 'CreateKey', Params: { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' } });
  const [{ KeyVersionId }] = (await value('Kms.Call', { Action: 'ListKeyVersions', Params: { KeyId: KeyMetadata.KeyId } })).KeyVersions.KeyVersion;
  const { PublicKey } = await value('Kms.Call', { Action: 'GetPublicKey', Params: { KeyId: KeyMetadata.KeyId, KeyVersionId } });
  key = { KeyId: KeyMetadata.KeyId, KeyVersionId, pem: PublicKey };
});

afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('files the host reads itself', () => {
  it('Digest.UpdateFile: the parts of a chosen file give SHA-256 of the file', async () => {
    const picked = await app.grantFile(filePath);
    expect(picked).toEqual({ Handle: expect.stringMatching(/^[0-9a-f-]{36}$/), Name: 'release.tar', Size: FILE_BYTES.length });
    const { SessionId } = await value('Digest.Begin', { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Algorithm: 'ECDSA_SHA_256' });
    expect(await feed('Digest.UpdateFile', SessionId, picked.Handle, picked.Size)).toBe(FILE_BYTES.length);
    const finished = await value('Digest.Finish', { SessionId });
    expect(finished).toMatchObject({ Digest: createHash('sha256').update(FILE_BYTES).digest('base64'), BytesHashed: FILE_BYTES.length });
  });

  it('Sign.UpdateFile: a raw signature of the chosen file, which node:crypto verifies over the file (and not over a changed byte)', async () => {
    const picked = await app.grantFile(filePath);
    const begun = await value('Sign.Begin', { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Format: 'raw', FileName: picked.Name });
    await feed('Sign.UpdateFile', begun.SessionId, picked.Handle, picked.Size);
    const finished = await value('Sign.Finish', { SessionId: begun.SessionId });
    expect(finished).toMatchObject({ FileName: 'release.tar.sig', BytesSigned: FILE_BYTES.length });
    const signature = Buffer.from(finished.Signature as string, 'base64');
    const publicKey = createPublicKey(key.pem);
    expect(verify('sha256', FILE_BYTES, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
    const changed = new Uint8Array(FILE_BYTES);
    changed[STREAM_PART_BYTES + 1]! ^= 1;
    expect(verify('sha256', changed, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(false);
  });

  it('takes the parts in order only: a skipped or repeated part is refused and hashes nothing', async () => {
    const picked = await app.grantFile(filePath);
    const { SessionId } = await value('Digest.Begin', { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Algorithm: 'ECDSA_SHA_256' });
    const skipped = await refusal('Digest.UpdateFile', { SessionId, Handle: picked.Handle, Offset: STREAM_PART_BYTES, Length: 10 });
    expect(skipped).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringMatching(/^Offset: must be 0/) });
    await value('Digest.UpdateFile', { SessionId, Handle: picked.Handle, Offset: 0, Length: 1000 });
    const repeated = await refusal('Digest.UpdateFile', { SessionId, Handle: picked.Handle, Offset: 0, Length: 1000 });
    expect(repeated.Message).toMatch(/^Offset: must be 1000/);
    const past = await refusal('Digest.UpdateFile', { SessionId, Handle: picked.Handle, Offset: 1000, Length: STREAM_PART_MAX + 1 });
    expect(past).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringMatching(/^Length: must be at most/) });
    // The session is still where it was.
    await value('Digest.UpdateFile', { SessionId, Handle: picked.Handle, Offset: 1000, Length: FILE_BYTES.length - 1000 });
    expect((await value('Digest.Finish', { SessionId })).Digest).toBe(createHash('sha256').update(FILE_BYTES).digest('base64'));
  });

  it('refuses a file that changed after it was chosen, an unknown handle, a directory, a FIFO and a missing file', async () => {
    const growing = join(dir, 'growing.bin');
    writeFileSync(growing, randomBytes(5000));
    const picked = await app.grantFile(growing);
    const { SessionId } = await value('Digest.Begin', { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Algorithm: 'ECDSA_SHA_256' });
    await value('Digest.UpdateFile', { SessionId, Handle: picked.Handle, Offset: 0, Length: 1000 });
    appendFileSync(growing, 'more');
    const changed = await refusal('Digest.UpdateFile', { SessionId, Handle: picked.Handle, Offset: 1000, Length: 1000 });
    expect(changed).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringMatching(/growing\.bin changed while it was being read/) });

    expect((await refusal('Digest.UpdateFile', { SessionId, Handle: '00000000-0000-4000-8000-000000000000', Offset: 1000, Length: 10 })).Message).toMatch(/^Handle: this session reads another chosen file/);
    const fresh = (await value('Digest.Begin', { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Algorithm: 'ECDSA_SHA_256' })).SessionId as string;
    const unknown = await refusal('Digest.UpdateFile', { SessionId: fresh, Handle: '00000000-0000-4000-8000-000000000000', Offset: 0, Length: 10 });
    expect(unknown.Message).toMatch(/^Handle: no chosen file/);
    expect((await refusal('Digest.UpdateFile', { SessionId: fresh, Handle: '../etc/passwd', Offset: 0, Length: 10 })).Message).toMatch(/Handle/);

    mkdirSync(join(dir, 'a-directory'));
    await expect(app.grantFile(join(dir, 'a-directory'))).rejects.toMatchObject({ code: 'InvalidParameter', message: expect.stringMatching(/not a regular file/) });
    await expect(app.grantFile(join(dir, 'missing.bin'))).rejects.toMatchObject({ code: 'InvalidParameter', message: expect.stringMatching(/ENOENT/) });
    // A FIFO chosen in the dialog is refused at once, not waited on until something writes to it.
    execFileSync('mkfifo', [join(dir, 'a-fifo')]);
    await expect(app.grantFile(join(dir, 'a-fifo'))).rejects.toMatchObject({ code: 'InvalidParameter', message: expect.stringMatching(/not a regular file: a-fifo/) });
  });

  it('reads one part of a file at a time, and reads a chosen file only into a session of its own from its start', async () => {
    const picked = await app.grantFile(filePath);
    const begin = async (): Promise<string> => (await value('Digest.Begin', { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Algorithm: 'ECDSA_SHA_256' })).SessionId as string;
    // Two parts asked at once: the second is refused while the first is read (memory stays one part).
    const [one, two] = [await begin(), await begin()];
    const both = await Promise.all([
      app.call({ method: 'Digest.UpdateFile', params: { SessionId: one, Handle: picked.Handle, Offset: 0, Length: STREAM_PART_BYTES } }),
      app.call({ method: 'Digest.UpdateFile', params: { SessionId: two, Handle: picked.Handle, Offset: 0, Length: STREAM_PART_BYTES } }),
    ]);
    expect(both[0]).toMatchObject({ ok: true });
    expect(both[1]).toMatchObject({ ok: false, error: { Code: 'InvalidParameter', Message: expect.stringMatching(/is being read; send the parts one at a time/) } });
    // Bytes, then the file: refused (the file's offset would not be the session's).
    const mixed = await begin();
    await value('Digest.Update', { SessionId: mixed, Chunk: Buffer.from('prefix').toString('base64') });
    expect((await refusal('Digest.UpdateFile', { SessionId: mixed, Handle: picked.Handle, Offset: 6, Length: 1 })).Message).toMatch(/already took bytes/);
    // The file, then bytes: refused too.
    expect((await refusal('Digest.Update', { SessionId: one, Chunk: Buffer.from('x').toString('base64') })).Message).toMatch(/reads a chosen file/);
    for (const id of [one, two, mixed]) await value('Digest.Abort', { SessionId: id });
  });

  it('answers a part read while the vault locks as a released handle, not as an internal failure', async () => {
    const picked = await app.grantFile(filePath);
    const { SessionId } = await value('Digest.Begin', { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Algorithm: 'ECDSA_SHA_256' });
    const reading = app.call({ method: 'Digest.UpdateFile', params: { SessionId, Handle: picked.Handle, Offset: 0, Length: STREAM_PART_BYTES } });
    await value('Vault.Lock');
    const answer = await reading;
    expect(answer).toMatchObject({ ok: false });
    expect((answer as { error: { Code: string } }).error.Code).not.toBe('InternalFailure');
    await value('Vault.Unlock', { Passphrase: PASSPHRASE });
  });

  it('keeps at most MAX_GRANTS files: choosing one more releases the oldest', async () => {
    const first = await app.grantFile(filePath);
    for (let i = 0; i < MAX_GRANTS; i++) await app.grantFile(filePath);
    const { SessionId } = await value('Digest.Begin', { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Algorithm: 'ECDSA_SHA_256' });
    expect((await refusal('Digest.UpdateFile', { SessionId, Handle: first.Handle, Offset: 0, Length: 10 })).Message).toMatch(/^Handle: no chosen file/);
    await value('Digest.Abort', { SessionId });
  });

  it('drops every chosen file when the vault locks, and grants none while it is locked', async () => {
    const picked = await app.grantFile(filePath);
    await value('Vault.Lock');
    await expect(app.grantFile(filePath)).rejects.toMatchObject({ code: 'Vault.Locked' });
    await value('Vault.Unlock', { Passphrase: PASSPHRASE });
    const { SessionId } = await value('Digest.Begin', { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Algorithm: 'ECDSA_SHA_256' });
    expect((await refusal('Digest.UpdateFile', { SessionId, Handle: picked.Handle, Offset: 0, Length: 10 })).Message).toMatch(/^Handle: no chosen file/);
  });
});
