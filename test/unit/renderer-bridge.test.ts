// The browser host's bridge in the page, with a recording fetch and a stand-in page: the launch
// token is taken from the #token= fragment and dropped from the address bar before anything is
// sent, traded once however many first calls race, and the secret rides every call in the session
// header and survives a reload through sessionStorage. The real host is in
// test/integration/ui-server.test.ts, the real browser in test/e2e/session-theft.spec.ts.
import { describe, expect, it } from 'vitest';
import { APP_SESSION_HEADER, APP_SESSION_STORAGE_KEY } from '../../core/contract/app-api.ts';
import { createHttpBridge, launchTokenOf, type PageContext } from '../../renderer/src/api/bridge.ts';

const TOKEN = 'T'.repeat(43);
const SECRET = 'S'.repeat(43);

function stand(hash: string, stored?: string) {
  const storage = new Map<string, string>(stored ? [[APP_SESSION_STORAGE_KEY, stored]] : []);
  const state = { hash, dropped: 0 };
  const page: PageContext = {
    hash: () => state.hash,
    dropHash: () => {
      state.hash = '';
      state.dropped++;
    },
    storage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => void storage.set(k, v) },
  };
  return { page, storage, state };
}

function recordingFetch(session: { ok: true; value: { Session: string } } | { ok: false; error: { Code: string; Message: string } }) {
  const requests: { url: string; headers: Record<string, string>; body: unknown }[] = [];
  const impl = ((url: string, init: RequestInit) => {
    requests.push({ url, headers: init.headers as Record<string, string>, body: JSON.parse(init.body as string) });
    const answer = url === '/api/session' ? session : { ok: true, value: { Initialized: true } };
    return Promise.resolve(new Response(JSON.stringify(answer), { status: answer.ok ? 200 : 401 }));
  }) as typeof fetch;
  return { impl, requests };
}

describe('launchTokenOf', () => {
  it('reads token= from a fragment', () => {
    expect(launchTokenOf(`#token=${TOKEN}`)).toBe(TOKEN);
    expect(launchTokenOf('')).toBeUndefined();
    expect(launchTokenOf('#token=')).toBeUndefined();
    expect(launchTokenOf('#keys')).toBeUndefined();
  });
});

describe('createHttpBridge in the browser host', () => {
  it('drops the fragment at once, trades the token once for concurrent first calls, and sends the secret on every call', async () => {
    const { page, storage, state } = stand(`#token=${TOKEN}`);
    const fetch = recordingFetch({ ok: true, value: { Session: SECRET } });
    const bridge = createHttpBridge(fetch.impl, page);
    expect(state).toEqual({ hash: '', dropped: 1 }); // before any request
    const results = await Promise.all([bridge.call('Vault.Status', {}), bridge.call('Vault.Status', {}), bridge.call('Keys.Inventory', {})]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(fetch.requests.map((r) => r.url)).toEqual(['/api/session', '/api/call', '/api/call', '/api/call']);
    expect(fetch.requests[0]!.body).toEqual({ LaunchToken: TOKEN });
    expect(fetch.requests[0]!.headers[APP_SESSION_HEADER]).toBeUndefined();
    for (const r of fetch.requests.slice(1)) expect(r.headers[APP_SESSION_HEADER]).toBe(SECRET);
    expect(storage.get(APP_SESSION_STORAGE_KEY)).toBe(SECRET);
  });

  it('after a reload (no fragment) uses the secret kept in sessionStorage, without a trade', async () => {
    const { page } = stand('', SECRET);
    const fetch = recordingFetch({ ok: false, error: { Code: 'Unauthorized.LaunchToken', Message: 'used' } });
    expect((await createHttpBridge(fetch.impl, page).call('Vault.Status', {})).ok).toBe(true);
    expect(fetch.requests.map((r) => [r.url, r.headers[APP_SESSION_HEADER]])).toEqual([['/api/call', SECRET]]);
  });

  it("answers the host's refusal of a used launch token, unless this tab already holds the session", async () => {
    const refused = { ok: false as const, error: { Code: 'Unauthorized.LaunchToken', Message: 'this launch URL was already used' } };
    const fresh = stand(`#token=${TOKEN}`);
    const f1 = recordingFetch(refused);
    expect(await createHttpBridge(f1.impl, fresh.page).call('Vault.Status', {})).toEqual(refused);
    expect(f1.requests.map((r) => r.url)).toEqual(['/api/session']);

    const holding = stand(`#token=${TOKEN}`, SECRET);
    const f2 = recordingFetch(refused);
    expect((await createHttpBridge(f2.impl, holding.page).call('Vault.Status', {})).ok).toBe(true);
    expect(f2.requests.at(-1)!.headers[APP_SESSION_HEADER]).toBe(SECRET);
  });

  it('without a token or a kept secret sends the call without the header (the host explains)', async () => {
    const fetch = recordingFetch({ ok: true, value: { Session: SECRET } });
    await createHttpBridge(fetch.impl, stand('').page).call('Vault.Status', {});
    expect(fetch.requests.map((r) => r.url)).toEqual(['/api/call']);
    expect(fetch.requests[0]!.headers[APP_SESSION_HEADER]).toBeUndefined();
  });
});
