// The README's "Symmetric keys and envelope encryption" recipes, run as written: each ```sh block
// in bash with `npx deskkms` as this checkout's CLI and the package's bins on PATH as `npm link` puts
// them (age finds age-plugin-deskkms there); the test checks what each block leaves behind.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../core/actions/dispatch.ts';
import { Vault } from '../../core/vault/vault.ts';
import { tempDir } from './vault-helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: ReturnType<typeof tempDir>;
let work: string;
let env: NodeJS.ProcessEnv;
let blocks: string[];

function ran(block: string): string {
  const prelude = `set -euo pipefail\nnpx() { if [ "$1" != deskkms ]; then echo "npx $1: not in the recipe" >&2; return 127; fi; shift; "${ROOT}/bin/deskkms" "$@"; }\n`;
  const r = spawnSync('bash', ['-c', prelude + block], { cwd: work, env, encoding: 'utf8', timeout: 240_000 });
  expect(r.status, `${block}\n--- output\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

const json = (file: string) => JSON.parse(readFileSync(join(work, file), 'utf8')) as Record<string, string>;

beforeAll(async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Symmetric keys and envelope encryption\n');
  expect(start).toBeGreaterThan(0);
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);

  dir = tempDir('deskkms-envelope-recipes-');
  work = join(dir.path, 'work');
  mkdirSync(work);
  mkdirSync(join(dir.path, 'home'));
  const passFile = join(dir.path, 'vault-pass.txt');
  writeFileSync(passFile, 'envelope recipes passphrase\n');
  const vaultDir = join(dir.path, 'vault');
  const vault = await Vault.init(vaultDir, { passphrase: Buffer.from('envelope recipes passphrase'), kdfN: 2 ** 14 });
  const created = await dispatch(vault, 'CreateKey', { KeySpec: 'Aliyun_AES_256' }, 'test');
  if (!created.ok) throw new Error(created.error.Message);
  const alias = await dispatch(vault, 'CreateAlias', { KeyId: created.body.KeyMetadata.KeyId, AliasName: 'alias/backups' }, 'test');
  if (!alias.ok) throw new Error(alias.error.Message);
  await vault.close();
  env = { PATH: `${join(ROOT, 'bin')}:/usr/local/bin:/usr/bin:/bin`, HOME: join(dir.path, 'home'), DESKKMS_VAULT: vaultDir, DESKKMS_PASSPHRASE_FILE: passFile };
});

afterAll(() => dir?.remove());

describe("the README's envelope encryption recipes, run as written", { timeout: 300_000 }, () => {
  it('has the four recipes', () => {
    expect(blocks).toHaveLength(4);
  });

  it('encrypts a secret bound to a context and decrypts it back', () => {
    expect(ran(blocks[0]!)).toBe('correct horse battery staple\n');
    expect(json('secret.json')).toMatchObject({ KeyId: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown, CiphertextBlob: expect.any(String) as unknown });
  });

  it('makes a data key, gets the same key back from its blob, and runs Actions through batch', () => {
    ran(blocks[1]!);
    const made = json('datakey.json');
    expect(Buffer.from(made.Plaintext!, 'base64')).toHaveLength(32);
    expect(json('datakey-again.json').Plaintext).toBe(made.Plaintext);
    const lines = readFileSync(join(work, 'batch.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ KeyId: made.KeyId, CiphertextBlob: expect.any(String) as unknown });
    expect(lines[1]).toMatchObject({ KeyId: made.KeyId, CiphertextBlob: expect.any(String) as unknown });
    expect(lines[1]).not.toHaveProperty('Plaintext');
  });

  it('rotates: a new primary version, and the blob made before still decrypts', () => {
    const before = json('secret.json');
    ran(blocks[2]!);
    const again = json('secret-again.json');
    expect(Buffer.from(again.Plaintext!, 'base64').toString()).toBe('correct horse battery staple');
    expect(again.KeyVersionId).toBe(before.KeyVersionId);
    const described = JSON.parse(spawnSync(`${ROOT}/bin/deskkms`, ['DescribeKey', '--KeyId', 'alias/backups'], { env, encoding: 'utf8' }).stdout) as { KeyMetadata: Record<string, string> };
    expect(described.KeyMetadata).toMatchObject({ AutomaticRotation: 'Enabled', RotationInterval: '7776000s' });
    expect(described.KeyMetadata.PrimaryKeyVersion).not.toBe(before.KeyVersionId);
  });

  it('encrypts a file with age to the key and decrypts it through the vault', () => {
    writeFileSync(join(work, 'backup.tar'), randomBytes(300_000));
    ran(blocks[3]!);
    expect(readFileSync(join(work, 'restored.tar')).equals(readFileSync(join(work, 'backup.tar')))).toBe(true);
    expect(readFileSync(join(work, 'backups.recipient'), 'utf8')).toMatch(/^age1deskkms1/);
  });
});
