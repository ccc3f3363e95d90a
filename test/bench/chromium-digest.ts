// Hashing a file for signing in the browser host as a person does it, in Debian's Chromium (see
// app-digest.ts for the rest of that section of the bench).
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { APP_CHUNK_PATH, APP_SESSION_HEADER, APP_SESSION_STORAGE_KEY, STREAM_PART_BYTES } from '../../core/contract/app-api.ts';

const PART = STREAM_PART_BYTES;

/** What the page's code touches (this file is compiled without the DOM's types). */
interface PageFile {
  readonly size: number;
  slice(start: number, end: number): unknown;
}
interface PageGlobals {
  readonly document: {
    createElement(tag: 'input'): { type: string; id: string };
    getElementById(id: string): { files: PageFile[] } | null;
    body: { append(node: unknown): void };
  };
  readonly sessionStorage: { getItem(key: string): string | null };
  fetch(url: string, init: { method: string; headers?: Record<string, string>; body: unknown }): Promise<{ json(): Promise<any>; text(): Promise<string> }>;
}
// Inside page.evaluate the code runs in the page (serialized): it names the page's globals as
// `globalThis as unknown as PageGlobals`, and nothing of this module.

export const CHROMIUM = process.env.DESKKMS_CHROMIUM ?? '/usr/bin/chromium';

/**
 * The browser host as a person uses it, in Debian's Chromium: the renderer opens the launch URL and
 * holds the session; the page then hashes the file with the requests the renderer sends (16 MiB
 * Blob slices to /api/chunk; or, from the shared folder, Files.Choose and one Digest.UpdateFile
 * per part), each the better of two runs. Also Chromium's own upload ceiling: the same slices to a
 * bare server that only counts them. Undefined where Chromium is not installed.
 */
export async function inChromium(url: string, KeyId: string, KeyVersionId: string, filePath: string, bareOrigin: string): Promise<{ upload: number; ceiling: number; shared: number } | undefined> {
  if (!existsSync(CHROMIUM)) return undefined;
  const { chromium } = await import('playwright');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking'] });
  try {
    /** A page at `at` holding the file, chosen in an <input type=file> as a person would. */
    const pageWithFile = async (at: string) => {
      const page = await browser.newPage();
      await page.goto(at);
      await page.evaluate(() => {
        const { document } = globalThis as unknown as PageGlobals;
        const input = document.createElement('input');
        input.type = 'file';
        input.id = 'bench-file';
        document.body.append(input);
      });
      await page.setInputFiles('#bench-file', filePath);
      return page;
    };
    // Another origin (the page's CSP allows only its own): a page of the bare server's.
    const ceiling = await (
      await pageWithFile(`${bareOrigin}/`)
    ).evaluate(async (PART) => {
      const g = globalThis as unknown as PageGlobals;
      const file = g.document.getElementById('bench-file')!.files[0]!;
      let best = 0;
      for (let i = 0; i < 2; i++) {
        const start = performance.now();
        for (let offset = 0; offset < file.size; offset += PART) await (await g.fetch('/count', { method: 'POST', body: file.slice(offset, offset + PART) })).text();
        best = Math.max(best, file.size / 1048576 / ((performance.now() - start) / 1000));
      }
      return best;
    }, PART);
    const page = await pageWithFile(url);
    await page.waitForFunction((key) => (globalThis as unknown as PageGlobals).sessionStorage.getItem(key) !== null, APP_SESSION_STORAGE_KEY);
    const name = basename(filePath);
    const measured = await page.evaluate(
      async ({ PART, header, key, chunkPath, params, name }) => {
        const g = globalThis as unknown as PageGlobals;
        const headers = { [header]: g.sessionStorage.getItem(key)! };
        const file = g.document.getElementById('bench-file')!.files[0]!;
        const call = async (method: string, p: unknown): Promise<any> => {
          const reply = await (await g.fetch('/api/call', { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ method, params: p }) })).json();
          if (!reply.ok) throw new Error(`${method}: ${reply.error.Code}: ${reply.error.Message}`);
          return reply.value;
        };
        const rate = async (run: () => Promise<void>): Promise<number> => {
          let best = 0;
          for (let i = 0; i < 2; i++) {
            const start = performance.now();
            await run();
            best = Math.max(best, file.size / 1048576 / ((performance.now() - start) / 1000));
          }
          return best;
        };
        const upload = await rate(async () => {
          const { SessionId } = await call('Digest.Begin', params);
          for (let offset = 0; offset < file.size; offset += PART) {
            const query = new URLSearchParams({ method: 'Digest.Update', session: SessionId }).toString();
            const reply = await (await g.fetch(`${chunkPath}?${query}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: file.slice(offset, offset + PART) })).json();
            if (!reply.ok) throw new Error(`/api/chunk: ${reply.error.Code}`);
          }
          await call('Digest.Finish', { SessionId });
        });
        const shared = await rate(async () => {
          const picked = await call('Files.Choose', { Path: name });
          const { SessionId } = await call('Digest.Begin', params);
          for (let Offset = 0; Offset < picked.Size; Offset += PART) await call('Digest.UpdateFile', { SessionId, Handle: picked.Handle, Offset, Length: Math.min(PART, picked.Size - Offset) });
          await call('Digest.Finish', { SessionId });
        });
        return { upload, shared };
      },
      { PART, header: APP_SESSION_HEADER, key: APP_SESSION_STORAGE_KEY, chunkPath: APP_CHUNK_PATH, params: { KeyId, KeyVersionId, Algorithm: 'ECDSA_SHA_256' }, name },
    );
    return { ...measured, ceiling };
  } finally {
    await browser.close();
  }
}

