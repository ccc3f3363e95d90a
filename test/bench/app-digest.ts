// Hashing a file for signing in the desktop app: the renderer sends 2 MiB chunks to the host, which
// hashes them: in the browser host as the raw bytes of a POST to /api/chunk (since issue 19), in
// Electron as base64 in the app API's JSON over IPC (Digest.Update), as the browser host did before. Measured against node:crypto hashing the
// same chunks directly in this process (the floor), in the same run: through AppSession in
// process (base64 + JSON + validation), and through the browser host over loopback HTTP (what the
// renderer in Chromium pays, minus the browser's own work).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppSession } from '../../core/app/app-session.ts';
import { startUiServer } from '../../core/hosts/ui/ui-server.ts';
import { APP_CHUNK_PATH, APP_SESSION_HEADER, APP_SESSION_PATH } from '../../core/contract/app-api.ts';
import { encodeBase64 } from '../../core/contract/base64.ts';
import { createDigester } from '../../core/crypto/hash.ts';
import { fmt, printTable } from './measure.ts';
import { record } from './summary.ts';

const CHUNK = 2 * 1024 * 1024;
const TOTAL_MIB = Number(process.env.BENCH_DIGEST_MIB ?? 256);

function post(origin: string, session: { cookie: string; secret: string }, body: string | Uint8Array, path = '/api/call'): Promise<string> {
  return new Promise((resolve, reject) => {
    const type = typeof body === 'string' ? 'application/json' : 'application/octet-stream';
    const headers = { cookie: session.cookie, [APP_SESSION_HEADER]: session.secret, origin, 'content-type': type };
    const req = request(`${origin}${path}`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Trades the launch URL's #token= for the session, as the page does (POST /api/session). */
function login(url: string): Promise<{ cookie: string; secret: string }> {
  const { origin, hash } = new URL(url);
  const LaunchToken = new URLSearchParams(hash.slice(1)).get('token');
  return new Promise((resolve, reject) => {
    request(`${origin}${APP_SESSION_PATH}`, { method: 'POST', headers: { origin, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => {
        const body = JSON.parse(text) as { ok: boolean; value?: { Session: string } };
        if (!body.ok || !body.value) reject(new Error(`the launch token was refused: ${text}`));
        else resolve({ cookie: String(res.headers['set-cookie']).split(';')[0]!, secret: body.value.Session });
      });
    })
      .on('error', reject)
      .end(JSON.stringify({ LaunchToken }));
  });
}

async function mibPerSecond(run: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await run();
  return TOTAL_MIB / ((performance.now() - start) / 1000);
}

export async function appDigestThroughput(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'deskkms-bench-digest-'));
  const session = new AppSession({ vaultDir: join(dir, 'vault'), caller: 'bench' });
  const server = await startUiServer({ call: (r) => session.call(r), staticDir: join(import.meta.dirname, '../../renderer') });
  try {
    const ok = async (method: string, params: unknown): Promise<any> => {
      const result = (await session.call({ method, params })) as { ok: boolean; value?: any; error?: { Code: string; Message: string } };
      if (!result.ok) throw new Error(`${method}: ${result.error!.Code}: ${result.error!.Message}`);
      return result.value;
    };
    await ok('Vault.Create', { Protection: 'passphrase', Passphrase: 'bench passphrase' });
    const { KeyId } = (await ok('Kms.Call', { Action: 'CreateKey', Params: { KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' } })).KeyMetadata;
    const [{ KeyVersionId }] = (await ok('Kms.Call', { Action: 'ListKeyVersions', Params: { KeyId } })).KeyVersions.KeyVersion;
    const chunk = randomBytes(CHUNK);
    const chunks = (TOTAL_MIB * 1024 * 1024) / CHUNK;

    const direct = await mibPerSecond(() => {
      const d = createDigester('SHA-256');
      for (let i = 0; i < chunks; i++) d.update(chunk);
      d.digest();
      return Promise.resolve();
    });
    const inProcess = await mibPerSecond(async () => {
      const { SessionId } = await ok('Digest.Begin', { KeyId, KeyVersionId, Algorithm: 'ECDSA_SHA_256' });
      for (let i = 0; i < chunks; i++) {
        // What crosses IPC or HTTP: the JSON text of the request.
        await session.call(JSON.parse(JSON.stringify({ method: 'Digest.Update', params: { SessionId, Chunk: encodeBase64(chunk) } })));
      }
      await ok('Digest.Finish', { SessionId });
    });
    const ui = await login(server.url);
    const overHttp = await mibPerSecond(async () => {
      const begun = JSON.parse(await post(server.origin, ui, JSON.stringify({ method: 'Digest.Begin', params: { KeyId, KeyVersionId, Algorithm: 'ECDSA_SHA_256' } })));
      const SessionId = begun.value.SessionId as string;
      for (let i = 0; i < chunks; i++) {
        const reply = JSON.parse(await post(server.origin, ui, JSON.stringify({ method: 'Digest.Update', params: { SessionId, Chunk: encodeBase64(chunk) } })));
        if (!reply.ok) throw new Error(`Digest.Update: ${reply.error.Code}`);
      }
      await post(server.origin, ui, JSON.stringify({ method: 'Digest.Finish', params: { SessionId } }));
    });
    const binaryOverHttp = await mibPerSecond(async () => {
      const begun = JSON.parse(await post(server.origin, ui, JSON.stringify({ method: 'Digest.Begin', params: { KeyId, KeyVersionId, Algorithm: 'ECDSA_SHA_256' } })));
      const SessionId = begun.value.SessionId as string;
      const path = `${APP_CHUNK_PATH}?${new URLSearchParams({ method: 'Digest.Update', session: SessionId }).toString()}`;
      for (let i = 0; i < chunks; i++) {
        const reply = JSON.parse(await post(server.origin, ui, chunk, path));
        if (!reply.ok) throw new Error(`/api/chunk: ${reply.error.Code}`);
      }
      await post(server.origin, ui, JSON.stringify({ method: 'Digest.Finish', params: { SessionId } }));
    });
    const against = 'node:crypto SHA-256 of the same chunks in process, same run';
    record({ id: 'app.digest.browser.ratio', what: 'hashing a file for signing in the app, browser host (bytes to /api/chunk)', value: binaryOverHttp / direct, against, goal: { atLeast: 0.5 } });
    record({ id: 'app.digest.base64.ratio', what: 'the same as base64 in JSON (/api/call; the browser host before, Electron IPC now)', value: overHttp / direct, against });
    printTable(`Hashing ${TOTAL_MIB} MiB for signing in the app, 2 MiB chunks (SHA-256, MiB/s)`, ['path', 'MiB/s', 'ratio to direct'], [
      ['node:crypto, same chunks, in process', fmt(direct), '1.00'],
      ['AppSession (base64 + JSON + validation)', fmt(inProcess), (inProcess / direct).toFixed(2)],
      ['browser host, base64 in JSON (/api/call; before)', fmt(overHttp), (overHttp / direct).toFixed(2)],
      ['browser host, bytes (/api/chunk; the page now)', fmt(binaryOverHttp), (binaryOverHttp / direct).toFixed(2)],
    ]);
  } finally {
    await server.close();
    await session.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await appDigestThroughput();
