// The app's confirm-on-use queue: each request ends exactly once (approved, denied, 'timeout' at its
// expiresAt, denied when its signal aborts or the queue is cleared), an answer to a request that is
// not waiting is refused, a flood is denied unasked, and the views say in plain words what is
// signed, with every text from outside escaped.
import { describe, expect, it } from 'vitest';
import type { ConfirmRequest, SignedData } from '../hosts/agent/agent-types.ts';
import { CONFIRM_PENDING_MAX, ConfirmQueue, describeSigned } from './agent-confirm.ts';

const KEY_ID = '11111111-2222-4333-8444-555555555555';
const VERSION_ID = '66666666-7777-4888-9999-aaaaaaaaaaaa';

function request(overrides: Partial<ConfirmRequest> = {}, inMs = 60_000): ConfirmRequest {
  return {
    id: `r-${Math.random()}`,
    keyId: KEY_ID,
    keyVersionId: VERSION_ID,
    keySpec: 'EC_P256',
    aliases: ['alias/git-signing'],
    sshFingerprint: 'SHA256:abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ',
    peer: { uid: 1000, pid: 4242, program: 'ssh-keygen' },
    what: { kind: 'sshsig', namespace: 'git', hashAlgorithm: 'sha512' },
    expiresAt: new Date(Date.now() + inMs).toISOString(),
    ...overrides,
  };
}

async function settled<T>(promise: Promise<T>): Promise<T | 'still waiting'> {
  return Promise.race([promise, new Promise<'still waiting'>((resolve) => setImmediate(() => resolve('still waiting')))]);
}

describe('ConfirmQueue', () => {
  it('shows a waiting request and resolves it approved or denied by its Id, once', async () => {
    const queue = new ConfirmQueue();
    const approved = queue.prompt(request(), new AbortController().signal);
    const denied = queue.prompt(request({ peer: { uid: 1000, pid: 7, program: 'ssh' } }), new AbortController().signal);
    const [first, second] = queue.pending();
    expect(queue.size).toBe(2);
    expect(first).toMatchObject({
      KeyId: KEY_ID,
      KeyVersionId: VERSION_ID,
      KeySpec: 'EC_P256',
      Aliases: ['alias/git-signing'],
      SshFingerprint: 'SHA256:abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ',
      Program: 'ssh-keygen',
      Pid: 4242,
      Kind: 'sshsig',
      What: 'a git signature (namespace git)',
    });
    expect(first!.Id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first!.SecondsLeft).toBeGreaterThan(0);
    expect(first!.SecondsLeft).toBeLessThanOrEqual(60);
    expect(second!.Program).toBe('ssh');
    expect(await settled(approved)).toBe('still waiting');

    queue.answer(first!.Id, true);
    queue.answer(second!.Id, false);
    expect(await approved).toBe('approved');
    expect(await denied).toBe('denied');
    expect(queue.pending()).toEqual([]);
    // Answered already: a second answer is refused, with the Id named.
    expect(() => queue.answer(first!.Id, true)).toThrow(expect.objectContaining({ code: 'InvalidParameter', message: expect.stringContaining(first!.Id) }));
  });

  it("resolves 'timeout' at expiresAt, and an approval that comes after it is no approval", async () => {
    let now = Date.now();
    const queue = new ConfirmQueue({ now: () => now });
    const soon = queue.prompt(request({}, 30), new AbortController().signal);
    expect(await soon).toBe('timeout');
    expect(queue.pending()).toEqual([]);

    // Past its time by the queue's clock before its timer ran: Approve counts as the timeout.
    const late = queue.prompt(request({ expiresAt: new Date(now + 60_000).toISOString() }), new AbortController().signal);
    const [view] = queue.pending();
    expect(view!.SecondsLeft).toBe(60);
    now += 61_000;
    expect(queue.pending()[0]!.SecondsLeft).toBe(0);
    queue.answer(view!.Id, true);
    expect(await late).toBe('timeout');
  });

  it('denies when the signal aborts (the client hung up), already aborted, or when the queue is cleared (lock, stop)', async () => {
    const queue = new ConfirmQueue();
    const hangUp = new AbortController();
    const hungUp = queue.prompt(request(), hangUp.signal);
    const gone = new AbortController();
    gone.abort();
    expect(await queue.prompt(request(), gone.signal)).toBe('denied');
    const cleared = [queue.prompt(request(), new AbortController().signal), queue.prompt(request(), new AbortController().signal)];
    expect(queue.size).toBe(3);
    hangUp.abort();
    expect(await hungUp).toBe('denied');
    expect(queue.size).toBe(2);
    queue.clear();
    expect(await Promise.all(cleared)).toEqual(['denied', 'denied']);
    expect(queue.pending()).toEqual([]);
  });

  it(`denies unasked beyond ${CONFIRM_PENDING_MAX} waiting, with a log line`, async () => {
    const lines: string[] = [];
    const queue = new ConfirmQueue({ log: (line) => lines.push(line) });
    const waiting = Array.from({ length: CONFIRM_PENDING_MAX }, () => queue.prompt(request(), new AbortController().signal));
    expect(await queue.prompt(request({ peer: { uid: 1000, pid: 99, program: 'loop\u001b[2J' } }), new AbortController().signal)).toBe('denied');
    expect(queue.size).toBe(CONFIRM_PENDING_MAX);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('loop\\x1B[2J');
    expect(lines[0]).not.toContain('\u001b');
    queue.clear();
    await Promise.all(waiting);
  });

  it('escapes what came from outside in its views', () => {
    const queue = new ConfirmQueue();
    void queue.prompt(
      request({ peer: { uid: 1000, pid: 5, program: 'evil\u202eexe' }, what: { kind: 'ssh-login', user: 'root\u0007', forwarded: false } }),
      new AbortController().signal,
    );
    const [view] = queue.pending();
    expect(view!.Program).toBe('evil\\u202Eexe');
    expect(view!.What).toBe('SSH login as root\\x07 to a host (its key is not shown)');
    queue.clear();
  });
});

describe('describeSigned', () => {
  const cases: [SignedData, string][] = [
    [{ kind: 'ssh-login', user: 'root', hostKeyFingerprint: 'SHA256:hostkey', forwarded: false }, 'SSH login as root to the host with key SHA256:hostkey'],
    [{ kind: 'ssh-login', user: 'deploy', forwarded: true }, 'SSH login as deploy to a host (its key is not shown), through a forwarded agent'],
    [{ kind: 'sshsig', namespace: 'git', hashAlgorithm: 'sha512' }, 'a git signature (namespace git)'],
    [{ kind: 'sshsig', namespace: 'file', hashAlgorithm: 'sha512' }, 'a file signature (namespace file)'],
    [{ kind: 'sshsig', namespace: 'release@example.org', hashAlgorithm: 'sha256' }, 'an SSH signature (namespace release@example.org)'],
    [{ kind: 'deskkms', command: 'sign', format: 'ssh' }, 'a digest from a program, which says it is a `deskkms sign` signature in format ssh; the agent cannot see what it signs'],
    [{ kind: 'unknown', bytes: 77 }, '77 bytes of data the agent cannot read as an SSH login or signature'],
  ];
  it.each(cases)('%j', (what, words) => {
    expect(describeSigned(what)).toBe(words);
  });

  it('an endpoint request names the program that sent the digest, escaped, and says the agent cannot see what is signed (review F8)', () => {
    const what: SignedData = { kind: 'deskkms', command: 'cli', format: 'ssh' };
    expect(describeSigned(what, { uid: 1000, pid: 4242, program: 'ssh-keygen' })).toBe(
      'a digest from ssh-keygen (pid 4242), which says it is a `deskkms cli` signature in format ssh; the agent cannot see what it signs',
    );
    expect(describeSigned(what, { uid: 1000, pid: 7, program: 'x\u202Ey' })).toContain('a digest from x\\u202Ey (pid 7)');
  });
});
