// Confirm on use through $SSH_ASKPASS, with small askpass scripts: exit 0 approves, another status
// denies, a program that cannot start denies, the request's expiry stops it ('timeout'), an abort
// stops it ('denied'); no SSH_ASKPASS or a relative one: no prompt at all. The question is escaped.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/integration/vault-helpers.ts';
import { askpassConfirm, confirmQuestion } from './askpass-confirm.ts';
import type { ConfirmRequest } from './agent-types.ts';

let dir: ReturnType<typeof tempDir>;

function script(name: string, body: string): string {
  const path = join(dir.path, name);
  writeFileSync(path, `#!/bin/sh\nprintf '%s|%s' "$SSH_ASKPASS_PROMPT" "$1" > '${path}.out'\necho $$ > '${path}.pid'\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const request = (expiresInMs = 60_000): ConfirmRequest => ({
  id: '00000000-0000-4000-8000-000000000000',
  keyId: 'key-1',
  keyVersionId: 'v-1',
  keySpec: 'EC_P256',
  aliases: ['alias/git'],
  sshFingerprint: 'SHA256:abc',
  peer: { uid: 0, pid: 77, program: 'ssh-keygen' },
  what: { kind: 'sshsig', namespace: 'git', hashAlgorithm: 'sha512' },
  expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
});

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

beforeAll(() => {
  dir = tempDir('deskkms-askpass-');
});
afterAll(() => dir.remove());

describe('askpassConfirm', () => {
  it('is undefined without SSH_ASKPASS or with a relative one', () => {
    expect(askpassConfirm({})).toBeUndefined();
    expect(askpassConfirm({ SSH_ASKPASS: 'ssh-askpass' })).toBeUndefined();
  });

  it('exit 0 approves; the program got SSH_ASKPASS_PROMPT=confirm and the question', async () => {
    const path = script('yes', 'exit 0');
    expect(await askpassConfirm({ SSH_ASKPASS: path })!(request(), new AbortController().signal)).toBe('approved');
    expect(readFileSync(`${path}.out`, 'utf8')).toBe(`confirm|${confirmQuestion(request())}`);
    expect(confirmQuestion(request())).toBe(
      'Allow ssh-keygen (pid 77) to use the DeskKMS key alias/git (key-1), fingerprint SHA256:abc, for an SSH signature (ssh-keygen -Y sign) in namespace "git" (git)?',
    );
  });

  it('a DeskKMS command through the endpoint: the question says it is a digest from that program, which the agent cannot read (review F8)', () => {
    const fromEndpoint: ConfirmRequest = { ...request(), what: { kind: 'deskkms', command: 'cli', format: 'ssh' } };
    expect(confirmQuestion(fromEndpoint)).toBe(
      'Allow ssh-keygen (pid 77) to use the DeskKMS key alias/git (key-1), fingerprint SHA256:abc, for a digest from ssh-keygen (pid 77), which says it is a `deskkms cli` signature in format ssh; the agent cannot see what it signs?',
    );
  });

  it('another status denies, and so does a program that cannot start', async () => {
    expect(await askpassConfirm({ SSH_ASKPASS: script('no', 'exit 1') })!(request(), new AbortController().signal)).toBe('denied');
    expect(await askpassConfirm({ SSH_ASKPASS: join(dir.path, 'missing') })!(request(), new AbortController().signal)).toBe('denied');
  });

  it('is stopped at expiresAt (timeout) and on abort (denied)', async () => {
    const path = script('hang', 'exec sleep 60');
    expect(await askpassConfirm({ SSH_ASKPASS: path })!(request(300), new AbortController().signal)).toBe('timeout');
    expect(await gone(Number(readFileSync(`${path}.pid`, 'utf8')))).toBe(true);
    const controller = new AbortController();
    const answer = askpassConfirm({ SSH_ASKPASS: path })!(request(), controller.signal);
    setTimeout(() => controller.abort(), 300);
    expect(await answer).toBe('denied');
    const aborted = new AbortController();
    aborted.abort();
    expect(await askpassConfirm({ SSH_ASKPASS: path })!(request(), aborted.signal)).toBe('denied');
  });
});
