// The IPC path of the Electron app, in Node: the sender guard every ipcMain.handle call runs
// first, and handleAppCall (the body of that handler) against a real AppSession on a real
// passphrase vault, proving that refused calls never reach the vault.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppSession } from '../../core/app/app-session.ts';
import { APP_CHANNEL, APP_PICK_CHANNEL } from '../../core/contract/app-api.ts';
import { APP_ENTRY_URL } from '../../electron/app-protocol.ts';
import { ALLOWED_CHANNELS, bridgeRequest, invokeChannel } from '../../electron/bridge-policy.ts';
import { checkSender, handleAppCall, handlePickFile, isTrustedSender, senderOf, type SenderInfo } from '../../electron/ipc-guard.ts';

const TRUSTED: SenderInfo = { frameUrl: APP_ENTRY_URL, isMainFrame: true, fromMainWindow: true };

describe('isTrustedSender', () => {
  it('accepts the top frame of our window on our app:// page', () => {
    expect(isTrustedSender(TRUSTED)).toBe(true);
    expect(isTrustedSender({ ...TRUSTED, frameUrl: 'app://deskkms/index.html#keys' })).toBe(true);
  });

  it.each([
    ['a foreign https origin', 'https://evil.example/index.html'],
    ['a loopback http page', 'http://127.0.0.1:8080/'],
    ['another app:// host', 'app://evil/index.html'],
    ['a lookalike host', 'app://deskkms.evil/index.html'],
    ['userinfo before another host', 'app://deskkms@evil/index.html'],
    ['a file URL outside the app', 'file:///etc/passwd'],
    ['the renderer opened as a file', `file://${process.cwd()}/renderer/dist/index.html`],
    ['about:blank', 'about:blank'],
    ['a data: document', 'data:text/html,<script>1</script>'],
    ['not a URL', 'deskkms'],
  ])('refuses %s', (_name, frameUrl) => {
    const verdict = checkSender({ ...TRUSTED, frameUrl });
    expect(verdict).toEqual({ trusted: false, reason: 'the sending page is not the DeskKMS app' });
  });

  it('refuses a subframe, even one showing our own page', () => {
    expect(checkSender({ ...TRUSTED, isMainFrame: false })).toEqual({ trusted: false, reason: 'the message came from a subframe' });
  });

  it('refuses another window or webContents, and a frame that is gone', () => {
    expect(isTrustedSender({ ...TRUSTED, fromMainWindow: false })).toBe(false);
    expect(isTrustedSender({ ...TRUSTED, frameUrl: undefined })).toBe(false);
  });
});

describe('senderOf', () => {
  const main = { id: 7 };
  it('reads the frame URL, top-frame-ness and the webContents of an ipcMain event', () => {
    const top = { url: APP_ENTRY_URL, parent: null };
    expect(senderOf({ sender: { id: 7 }, senderFrame: top } as never, main)).toEqual(TRUSTED);
    const sub = { url: APP_ENTRY_URL, parent: top };
    expect(senderOf({ sender: { id: 7 }, senderFrame: sub } as never, main).isMainFrame).toBe(false);
    expect(senderOf({ sender: { id: 8 }, senderFrame: top } as never, main).fromMainWindow).toBe(false);
    expect(senderOf({ sender: { id: 7 }, senderFrame: top } as never, undefined).fromMainWindow).toBe(false);
    expect(senderOf({ sender: { id: 7 }, senderFrame: null } as never, main)).toEqual({ frameUrl: undefined, isMainFrame: false, fromMainWindow: true });
  });
});

describe('the preload bridge policy', () => {
  it('allows exactly the app channel and the file dialog', () => {
    expect(ALLOWED_CHANNELS).toEqual([APP_CHANNEL, APP_PICK_CHANNEL]);
    expect(invokeChannel()).toBe(APP_CHANNEL);
    expect(invokeChannel(APP_PICK_CHANNEL)).toBe(APP_PICK_CHANNEL);
    expect(() => invokeChannel('deskkms:other')).toThrow(/not allowed/);
  });

  it('sends a plain { method, params } request', () => {
    expect(bridgeRequest('Vault.Status', undefined)).toEqual({ method: 'Vault.Status', params: {} });
    expect(() => bridgeRequest(42, {})).toThrow(TypeError);
  });
});

describe('handleAppCall against a real vault', () => {
  let root: string;
  let vaultDir: string;
  let session: AppSession;
  let calls = 0;
  const counted = { call: (request: unknown) => (calls++, session.call(request)) };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'deskkms-electron-ipc-'));
    vaultDir = join(root, 'vault');
    session = new AppSession({ vaultDir, caller: 'app' });
    const created = await handleAppCall(counted, TRUSTED, { method: 'Vault.Create', params: { Protection: 'passphrase', Passphrase: 'correct horse battery' } });
    expect(created.ok).toBe(true);
    const key = await handleAppCall(counted, TRUSTED, { method: 'Kms.Call', params: { Action: 'CreateKey', Params: { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' } } });
    expect(key.ok).toBe(true);
  }, 60_000);

  afterAll(async () => {
    await session.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function auditCount(): Promise<number> {
    const listed = await session.call({ method: 'Audit.List', params: {} });
    if (!listed.ok) throw new Error(listed.error.Message);
    return (listed.value as { Entries: unknown[] }).Entries.length;
  }

  async function keyCount(): Promise<number> {
    const status = await session.call({ method: 'Vault.Status', params: {} });
    if (!status.ok) throw new Error(status.error.Message);
    return (status.value as { KeyCount: number }).KeyCount;
  }

  it('answers a trusted call through AppSession', async () => {
    const result = await handleAppCall(counted, TRUSTED, { method: 'Vault.Status', params: {} });
    expect(result).toMatchObject({ ok: true, value: { Initialized: true, Locked: false, ProtectionKind: 'passphrase' } });
  });

  it('refuses an untrusted sender before AppSession sees the payload', async () => {
    const before = { calls, audit: await auditCount(), keys: await keyCount() };
    const lines: string[] = [];
    const result = await handleAppCall(
      counted,
      { ...TRUSTED, frameUrl: 'https://evil.example/' },
      { method: 'Kms.Call', params: { Action: 'CreateKey', Params: { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' } } },
      (line) => lines.push(line),
    );
    expect(result).toEqual({ ok: false, error: { Code: 'Forbidden.NoPermission', Message: 'IPC: the sending page is not the DeskKMS app' } });
    expect(calls).toBe(before.calls);
    expect(lines).toEqual(['deskkms: IPC call refused: the sending page is not the DeskKMS app (https://evil.example/)']);
    expect(await keyCount()).toBe(before.keys);
    expect(await auditCount()).toBe(before.audit);
  });

  it.each([
    ['not an object', 'Vault.Lock'],
    ['null', null],
    ['an array', [{ method: 'Vault.Lock' }]],
    ['no method', { params: {} }],
    ['an extra envelope field', { method: 'Vault.Lock', params: {}, sender: 'main' }],
    ['an unknown method', { method: 'Vault.Destroy', params: {} }],
    ['a prototype key as method', { method: '__proto__', params: {} }],
    ['an unknown parameter of Vault.Lock', { method: 'Vault.Lock', params: { Force: true } }],
    ['Kms.Call with a non-string Action', { method: 'Kms.Call', params: { Action: 42, Params: {} } }],
    ['Kms.Call with Params as a string', { method: 'Kms.Call', params: { Action: 'CreateKey', Params: 'KeySpec=EC_P256' } }],
    ['a digest chunk that is not base64', { method: 'Digest.Update', params: { SessionId: '00000000-0000-4000-8000-000000000000', Chunk: '<script>' } }],
  ])('refuses a malformed payload (%s) with InvalidParameter and never reaches the vault', async (_name, payload) => {
    const before = { audit: await auditCount(), keys: await keyCount(), files: readdirSync(vaultDir).sort() };
    const result = await handleAppCall(counted, TRUSTED, payload);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.Code).toBe('InvalidParameter');
    expect(JSON.stringify(result)).not.toMatch(/at .*\.ts:\d+|correct horse/);
    // Nothing ran: no key, the vault still unlocked (a Vault.Lock with a bad parameter did not
    // lock it), no new file beside the database. A malformed Kms.Call is a refused KMS call and
    // is audited once; any other malformed payload leaves no entry.
    const isKmsCall = typeof payload === 'object' && payload !== null && (payload as { method?: unknown }).method === 'Kms.Call';
    expect(await auditCount()).toBe(before.audit + (isKmsCall ? 1 : 0));
    expect(await keyCount()).toBe(before.keys);
    expect(readdirSync(vaultDir).sort()).toEqual(before.files);
    const status = await session.call({ method: 'Vault.Status', params: {} });
    expect(status).toMatchObject({ ok: true, value: { Locked: false } });
  });

  it('refuses a Kms.Call without its Action as MissingParameter, also before the vault', async () => {
    const before = await auditCount();
    const result = await handleAppCall(counted, TRUSTED, { method: 'Kms.Call', params: { Params: { KeySpec: 'EC_P256' } } });
    expect(result).toMatchObject({ ok: false, error: { Code: 'MissingParameter' } });
    expect(await auditCount()).toBe(before + 1); // audited as a refused call, nothing else ran
  });

  it('refuses a malformed Vault.Create before a vault directory is made', async () => {
    const fresh = join(root, 'never-created');
    const other = new AppSession({ vaultDir: fresh, caller: 'app' });
    try {
      const result = await handleAppCall(other, TRUSTED, { method: 'Vault.Create', params: { Protection: 'passphrase', Passphrase: 'short' } });
      expect(result).toMatchObject({ ok: false, error: { Code: 'InvalidParameter' } });
      expect(readdirSync(root)).not.toContain('never-created');
    } finally {
      await other.close();
    }
  });
});

describe('handlePickFile: main\'s own file dialog, then the grant', () => {
  let root: string;
  let session: AppSession;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'deskkms-electron-pick-'));
    session = new AppSession({ vaultDir: join(root, 'vault'), caller: 'app' });
    expect((await session.call({ method: 'Vault.Create', params: { Protection: 'passphrase', Passphrase: 'correct horse battery' } })).ok).toBe(true);
  }, 60_000);

  afterAll(async () => {
    await session.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses an untrusted sender before any dialog opens', async () => {
    let opened = 0;
    const lines: string[] = [];
    const result = await handlePickFile(session, { ...TRUSTED, isMainFrame: false }, () => Promise.resolve((opened++, '/etc/passwd')), (line) => lines.push(line));
    expect(result).toEqual({ ok: false, error: { Code: 'Forbidden.NoPermission', Message: 'IPC: the message came from a subframe' } });
    expect(opened).toBe(0);
    expect(lines).toEqual([`deskkms: file dialog refused: the message came from a subframe (${APP_ENTRY_URL})`]);
  });

  it('answers null when the dialog is cancelled, and the chosen file\'s handle, name and size otherwise', async () => {
    expect(await handlePickFile(session, TRUSTED, () => Promise.resolve(undefined))).toEqual({ ok: true, value: null });
    const path = join(root, 'release.tar');
    writeFileSync(path, Buffer.alloc(1234, 7));
    expect(await handlePickFile(session, TRUSTED, () => Promise.resolve(path))).toEqual({ ok: true, value: { Handle: expect.stringMatching(/^[0-9a-f-]{36}$/), Name: 'release.tar', Size: 1234 } });
  });

  it('answers a refusal as an envelope (a directory chosen; a locked vault)', async () => {
    expect(await handlePickFile(session, TRUSTED, () => Promise.resolve(root))).toMatchObject({ ok: false, error: { Code: 'InvalidParameter', Message: expect.stringMatching(/not a regular file/) } });
    await session.call({ method: 'Vault.Lock', params: {} });
    expect(await handlePickFile(session, TRUSTED, () => Promise.resolve(join(root, 'release.tar')))).toMatchObject({ ok: false, error: { Code: 'Vault.Locked' } });
  });
});
