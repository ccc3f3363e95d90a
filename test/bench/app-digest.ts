// Hashing a file for signing in the desktop app: the renderer sends the file to the host, which
// hashes it: in the browser host as 16 MiB slices of the file, each the raw body of a POST to
// /api/chunk hashed as it arrives (since issue 19); in Electron as 2 MiB chunks in base64 in the
// app API's JSON over IPC (Digest.Update), as the browser host did before. Measured against node:crypto hashing the
// same chunks directly in this process (the floor), in the same run: through AppSession in
// process (base64 + JSON + validation), and through the browser host over loopback HTTP (what the
// renderer in Chromium pays, minus the browser's own work).
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppSession } from '../../core/app/app-session.ts';
import { HostFolder } from '../../core/app/host-folder.ts';
import { RENDERER_DIST, buildRenderer, rendererBuilt } from '../../core/app/renderer-build.ts';
import { startUiServer } from '../../core/hosts/ui/ui-server.ts';
import { APP_CHUNK_PATH, APP_SESSION_HEADER, APP_SESSION_PATH, STREAM_PART_BYTES } from '../../core/contract/app-api.ts';
import { encodeBase64 } from '../../core/contract/base64.ts';
import { createDigester } from '../../core/crypto/hash.ts';
import { CHROMIUM, inChromium } from './chromium-digest.ts';
import { fmt, printTable } from './measure.ts';
import { record } from './summary.ts';

const CHUNK = 2 * 1024 * 1024;
/** The part the page sends to the browser host. */
const PART = STREAM_PART_BYTES;
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

/** The better of two runs (the first warms the page cache, the JIT and the buffers). */
async function bestOfTwo(run: () => Promise<void>): Promise<number> {
  return Math.max(await mibPerSecond(run), await mibPerSecond(run));
}

export async function appDigestThroughput(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'deskkms-bench-digest-'));
  // Shares its own folder, as `deskkms ui --files DIR` does: the file to hash is written there.
  const session = new AppSession({ vaultDir: join(dir, 'vault'), caller: 'bench', files: await HostFolder.open(dir) });
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
    // Electron: the file the user chose in main's dialog, read and hashed by main itself
    // (AppSession Digest.UpdateFile, what the IPC handler calls); the renderer's one small IPC
    // message per 16 MiB part is not included (no Electron binary here). Read from the page cache.
    const filePath = join(dir, 'release.bin');
    writeFileSync(filePath, '');
    for (let i = 0; i < chunks; i++) appendFileSync(filePath, chunk);
    // node:crypto hashing that file as a program would (`sha256sum`): read into one buffer, 16 MiB
    // at a time, and hash. Unlike `direct` (one 2 MiB chunk hashed again and again from the CPU's
    // cache), its bytes come from memory: the floor for hashing a file, and the goals' baseline.
    const fileDirect = await bestOfTwo(() => {
      const fd = openSync(filePath, 'r');
      try {
        const buffer = Buffer.allocUnsafe(PART);
        const d = createDigester('SHA-256');
        for (let n = readSync(fd, buffer, 0, PART, null); n > 0; n = readSync(fd, buffer, 0, PART, null)) d.update(buffer.subarray(0, n));
        d.digest();
      } finally {
        closeSync(fd);
      }
      return Promise.resolve();
    });
    const hostReads = await bestOfTwo(async () => {
      const picked = await session.grantFile(filePath);
      const { SessionId } = await ok('Digest.Begin', { KeyId, KeyVersionId, Algorithm: 'ECDSA_SHA_256' });
      for (let Offset = 0; Offset < picked.Size; Offset += PART) await ok('Digest.UpdateFile', { SessionId, Handle: picked.Handle, Offset, Length: Math.min(PART, picked.Size - Offset) });
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
    const bytesOverHttp = (body: Buffer) =>
      mibPerSecond(async () => {
        const begun = JSON.parse(await post(server.origin, ui, JSON.stringify({ method: 'Digest.Begin', params: { KeyId, KeyVersionId, Algorithm: 'ECDSA_SHA_256' } })));
        const SessionId = begun.value.SessionId as string;
        const path = `${APP_CHUNK_PATH}?${new URLSearchParams({ method: 'Digest.Update', session: SessionId }).toString()}`;
        for (let sent = 0; sent < TOTAL_MIB * 1024 * 1024; sent += body.length) {
          const reply = JSON.parse(await post(server.origin, ui, body, path));
          if (!reply.ok) throw new Error(`/api/chunk: ${reply.error.Code}`);
        }
        await post(server.origin, ui, JSON.stringify({ method: 'Digest.Finish', params: { SessionId } }));
      });
    // The ceiling of the route: a bare node:http server with no DeskKMS code, hashing each POST's
    // body with SHA-256 as it arrives, sent the same parts by the same client.
    const bare = createServer((req, res) => {
      // Chromium's ceiling (below) posts to /count: the bytes are only counted, not hashed.
      const h = req.url === '/count' ? undefined : createHash('sha256');
      let n = 0;
      req
        .on('data', (d: Buffer) => (h ? h.update(d) : (n += d.length)))
        .on('end', () => res.end(JSON.stringify({ ok: true, value: h ? h.digest('base64') : n })));
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    const bareOrigin = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
    const part = randomBytes(Math.min(PART, TOTAL_MIB * 1024 * 1024));
    const bareHttp = await mibPerSecond(async () => {
      for (let sent = 0; sent < TOTAL_MIB * 1024 * 1024; sent += part.length) await post(bareOrigin, ui, part, '/');
    });
    const chunkBytesOverHttp = await bytesOverHttp(chunk);
    const binaryOverHttp = await bytesOverHttp(part);
    // A host of its own: the launch URL above was traded already (one trade per launch).
    if (!rendererBuilt()) await buildRenderer({ quiet: true });
    const chromiumHost = await startUiServer({ call: (r) => session.call(r), staticDir: RENDERER_DIST });
    const chromium = await inChromium(chromiumHost.url, KeyId, KeyVersionId, filePath, bareOrigin).finally(() => chromiumHost.close());
    const against = `node:crypto SHA-256 of the same ${TOTAL_MIB} MiB file, read 16 MiB at a time, in process, same run`;
    bare.close();
    // The goal is the browser host as a person uses it: in Chromium where it is installed.
    record({ id: 'app.digest.browser.ratio', what: 'hashing a file for signing in the app, browser host (16 MiB parts as bytes to /api/chunk, hashed as they arrive; a Node client)', value: binaryOverHttp / fileDirect, against, ...(chromium ? {} : { goal: { atLeast: 0.5 } }) });
    if (chromium) {
      record({ id: 'app.digest.chromium.upload.ratio', what: 'the same in Chromium: the page uploads 16 MiB Blob slices of the chosen file to /api/chunk', value: chromium.upload / fileDirect, against });
      record({ id: 'app.digest.chromium.ceiling.ratio', what: "Chromium uploading the same slices to a bare node:http server that only counts them (the browser's own ceiling)", value: chromium.ceiling / fileDirect, against });
      record({ id: 'app.digest.chromium.shared.ratio', what: 'Chromium, a file chosen in the shared folder (deskkms ui --files): the host reads it (Files.Choose, Digest.UpdateFile)', value: chromium.shared / fileDirect, against, goal: { atLeast: 0.5 } });
    }
    record({ id: 'app.digest.electron.ratio', what: "Electron: main hashing the file chosen in its dialog (AppSession Digest.UpdateFile in process, without the renderer's IPC per 16 MiB part)", value: hostReads / fileDirect, against, goal: { atLeast: 0.9 } });
    record({ id: 'app.digest.browser.ceiling.ratio', what: 'a bare node:http server hashing the same parts as they arrive (the route\'s ceiling)', value: bareHttp / fileDirect, against });
    record({ id: 'app.digest.base64.ratio', what: 'the same as base64 in JSON (/api/call; the browser host before, Electron IPC before)', value: overHttp / fileDirect, against });
    record({ id: 'app.digest.cached-chunk.mibs', what: 'node:crypto hashing one 2 MiB chunk again and again (CPU cache; the baseline before)', value: direct, against: 'MiB/s' });
    const row = (name: string, rate: number): string[] => [name, fmt(rate), (rate / fileDirect).toFixed(2), (rate / direct).toFixed(2)];
    printTable(`Hashing ${TOTAL_MIB} MiB for signing in the app (SHA-256, MiB/s)`, ['path', 'MiB/s', 'ratio to the file', 'ratio to the cached chunk'], [
      row('node:crypto, the file read 16 MiB at a time (the baseline)', fileDirect),
      row('node:crypto, one 2 MiB chunk again and again (CPU cache; the baseline before)', direct),
      row('Electron before: AppSession, 2 MiB chunks as base64 in JSON', inProcess),
      row('Electron now: main reads the chosen file (Digest.UpdateFile, 16 MiB parts)', hostReads),
      row('browser host before: base64 in JSON (/api/call)', overHttp),
      row('browser host, bytes, 2 MiB a request', chunkBytesOverHttp),
      row('browser host now: bytes, 16 MiB parts (/api/chunk)', binaryOverHttp),
      row('ceiling: a bare node:http server hashing 16 MiB parts as they arrive', bareHttp),
      ...(chromium
        ? [
            row('Chromium: the page uploads 16 MiB slices to /api/chunk', chromium.upload),
            row("Chromium's ceiling: the same slices to a server that only counts them", chromium.ceiling),
            row('Chromium, shared folder (--files): the host reads the chosen file', chromium.shared),
          ]
        : []),
    ]);
    if (!chromium) console.log(`Chromium (${CHROMIUM}) is not installed: the browser rows were not measured`);
  } finally {
    await server.close();
    await session.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await appDigestThroughput();
