// The browser host's shared folder (`deskkms ui --files DIR`) through AppSession, as the page calls
// it: Files.List lists the folder (links shown as what they point to, and only inside it),
// Files.Choose grants a file in it that Digest.UpdateFile hashes to node:crypto's SHA-256 of the
// file, and a signature over it verifies with openssl. Nothing outside the folder is reached: `..`,
// an absolute path, a link out of the folder (to a file or a folder), and a link swapped in after
// the path was checked are refused; so are Files.* where no folder is shared, and while locked.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAM_PART_BYTES } from '../contract/app-api.ts';
import { AppSession } from './app-session.ts';
import { HostFolder } from './host-folder.ts';
import { appCalls } from '../../test/support/app-calls.ts';

const PASSPHRASE = 'correct horse battery staple';
let dir: string;
let shared: string;
let app: AppSession;
let bare: AppSession;
let key: { KeyId: string; KeyVersionId: string; pem: string };
const ARTIFACT = new Uint8Array(randomBytes(STREAM_PART_BYTES + 777));

const { value, refusal } = appCalls(() => app);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deskkms-host-folder-'));
  shared = join(dir, 'dist');
  mkdirSync(join(shared, 'linux', 'x64'), { recursive: true });
  writeFileSync(join(shared, 'release.tar'), ARTIFACT);
  writeFileSync(join(shared, 'linux', 'x64', 'deskkms'), 'binary');
  writeFileSync(join(dir, 'secret.txt'), 'outside the shared folder');
  mkdirSync(join(dir, 'elsewhere'));
  writeFileSync(join(dir, 'elsewhere', 'other.txt'), 'also outside');
  symlinkSync(join(dir, 'secret.txt'), join(shared, 'leak.txt'));
  symlinkSync(join(dir, 'elsewhere'), join(shared, 'escape'));
  symlinkSync(join(shared, 'release.tar'), join(shared, 'latest.tar'));
  symlinkSync(join(dir, 'missing'), join(shared, 'dangling'));
  // A FIFO: not listed, and refused without waiting for a writer (opening it for reading would).
  execFileSync('mkfifo', [join(shared, 'pipe')]);
  app = new AppSession({ vaultDir: join(dir, 'vault'), caller: 'test', files: await HostFolder.open(shared) });
  await value('Vault.Create', { Protection: 'passphrase', Passphrase: PASSPHRASE });
  const { KeyMetadata } = await value('Kms.Call', { Action: 'CreateKey', Params: { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' } });
  const [{ KeyVersionId }] = (await value('Kms.Call', { Action: 'ListKeyVersions', Params: { KeyId: KeyMetadata.KeyId } })).KeyVersions.KeyVersion;
  const { PublicKey } = await value('Kms.Call', { Action: 'GetPublicKey', Params: { KeyId: KeyMetadata.KeyId, KeyVersionId } });
  key = { KeyId: KeyMetadata.KeyId, KeyVersionId, pem: PublicKey };
  bare = new AppSession({ vaultDir: join(dir, 'no-vault'), caller: 'test' });
});

afterAll(async () => {
  await app.close();
  await bare.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the browser host shared folder', () => {
  it('Files.List: folders first, then files with their sizes; a link inside the folder as its target, links out of it and dangling ones left out', async () => {
    const listed = await value('Files.List', {});
    expect(listed).toEqual({
      Root: 'dist',
      Path: '',
      Truncated: false,
      Entries: [
        { Name: 'linux', Kind: 'folder' },
        { Name: 'latest.tar', Kind: 'file', Size: ARTIFACT.length },
        { Name: 'release.tar', Kind: 'file', Size: ARTIFACT.length },
      ],
    });
    expect(await value('Files.List', { Path: 'linux/x64/' })).toMatchObject({ Path: 'linux/x64', Entries: [{ Name: 'deskkms', Kind: 'file', Size: 6 }] });
  });

  it('Files.Choose: the host reads the chosen file; its digest is SHA-256 of the file and openssl verifies the signature', async () => {
    const picked = await value('Files.Choose', { Path: 'latest.tar' });
    expect(picked).toEqual({ Handle: expect.stringMatching(/^[0-9a-f-]{36}$/), Name: 'release.tar', Size: ARTIFACT.length });
    const { SessionId } = await value('Digest.Begin', { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Algorithm: 'ECDSA_SHA_256' });
    for (let Offset = 0; Offset < picked.Size; Offset += STREAM_PART_BYTES) {
      await value('Digest.UpdateFile', { SessionId, Handle: picked.Handle, Offset, Length: Math.min(STREAM_PART_BYTES, picked.Size - Offset) });
    }
    const { Digest } = await value('Digest.Finish', { SessionId });
    expect(Digest).toBe(createHash('sha256').update(ARTIFACT).digest('base64'));
    const { Value } = await value('Kms.Call', { Action: 'AsymmetricSign', Params: { KeyId: key.KeyId, KeyVersionId: key.KeyVersionId, Algorithm: 'ECDSA_SHA_256', Digest } });
    writeFileSync(join(dir, 'pub.pem'), key.pem);
    writeFileSync(join(dir, 'sig.der'), Buffer.from(Value as string, 'base64'));
    const verified = execFileSync('openssl', ['dgst', '-sha256', '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig.der'), join(shared, 'release.tar')], { encoding: 'utf8' });
    expect(verified.trim()).toBe('Verified OK');
  });

  it('refuses every path out of the folder: .., an absolute path, and links to a file or a folder outside it', async () => {
    for (const Path of ['../secret.txt', 'linux/../../secret.txt', './release.tar', '/etc/passwd', `${dir}/secret.txt`]) {
      expect((await refusal('Files.Choose', { Path })).Code, Path).toBe('InvalidParameter');
    }
    expect(await refusal('Files.Choose', { Path: 'leak.txt' })).toMatchObject({ Code: 'Forbidden.NoPermission', Message: 'leak.txt is outside the shared folder' });
    expect(await refusal('Files.Choose', { Path: 'escape/other.txt' })).toMatchObject({ Code: 'Forbidden.NoPermission' });
    expect(await refusal('Files.List', { Path: 'escape' })).toMatchObject({ Code: 'Forbidden.NoPermission' });
    expect(await refusal('Files.List', { Path: '..' })).toMatchObject({ Code: 'InvalidParameter' });
  });

  it('refuses a folder as a file, a file as a folder, a FIFO, a missing path and a dangling link, each with what is wrong', async () => {
    expect(await refusal('Files.Choose', { Path: 'linux' })).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('not a regular file') });
    expect(await refusal('Files.List', { Path: 'release.tar' })).toMatchObject({ Code: 'InvalidParameter', Message: 'release.tar is not a folder' });
    expect(await refusal('Files.Choose', { Path: 'nothing.tar' })).toMatchObject({ Code: 'InvalidParameter', Message: 'nothing.tar does not exist in the shared folder' });
    expect(await refusal('Files.Choose', { Path: 'dangling' })).toMatchObject({ Code: 'InvalidParameter', Message: 'dangling does not exist in the shared folder' });
    expect(await refusal('Files.Choose', { Path: '' })).toMatchObject({ Code: 'InvalidParameter' });
    expect(await refusal('Files.Choose', { Path: 'pipe' })).toMatchObject({ Code: 'InvalidParameter', Message: 'pipe is not a regular file' });
  });

  it('refuses a link swapped in after the path was checked (opened without following it, the descriptor path checked again)', async () => {
    const folder = await HostFolder.open(shared);
    writeFileSync(join(shared, 'swap.bin'), 'inside');
    // What the race would leave: the checked name now a link to a file outside.
    const checked = folder.openFile('swap.bin');
    rmSync(join(shared, 'swap.bin'));
    symlinkSync(join(dir, 'secret.txt'), join(shared, 'swap.bin'));
    // Either the check already ran (then the open does not follow the link) or it sees the link.
    await expect(checked.then(async ({ handle }) => handle.close())).rejects.toMatchObject({ code: expect.stringMatching(/^(Forbidden\.NoPermission|InvalidParameter)$/) });
    rmSync(join(shared, 'swap.bin'));
  });

  it('answers UnsupportedOperation where no folder is shared, and Vault.Locked while locked', async () => {
    const refused = await bare.call({ method: 'Files.List', params: {} });
    expect(refused).toMatchObject({ ok: false, error: { Code: 'UnsupportedOperation', Message: expect.stringContaining('deskkms ui --files DIR') } });
    await value('Vault.Lock', {});
    expect((await refusal('Files.List', {})).Code).toBe('Vault.Locked');
    expect((await refusal('Files.Choose', { Path: 'release.tar' })).Code).toBe('Vault.Locked');
    await value('Vault.Unlock', { Passphrase: PASSPHRASE });
  });

  it('refuses to share a missing path or a file', async () => {
    await expect(HostFolder.open(join(dir, 'nope'))).rejects.toMatchObject({ code: 'InvalidParameter', message: expect.stringContaining('cannot be shared (ENOENT)') });
    await expect(HostFolder.open(join(shared, 'release.tar'))).rejects.toMatchObject({ code: 'InvalidParameter', message: expect.stringContaining('is not a folder') });
  });
});
