// age-plugin-deskkms with Debian's age (1.1, plugin support) as the peer (issue 18): age finds the
// plugin on PATH by the recipient or identity, encrypts a 200 MB file to a symmetric vault key and a
// small one to an RSA key's recipient, and decrypts them through the vault; a disabled key refuses
// (age fails with the vault's Code); a tampered file is refused by age. The JS age-encryption
// library is not a second peer here: it is not a dependency of this project (see README, "Encrypt
// files with age").
import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { listAuditEntries } from '../../core/audit/audit-log.ts';
import { decodeIdentity, decodeRecipient, encodeIdentity } from '../../core/formats/age-deskkms.ts';
import { useActionVault } from '../support/action-vault.ts';
import { makeSymmetricKey } from '../support/symmetric-key.ts';

const BIN = resolve(import.meta.dirname, '../../bin');
const v = useActionVault('age-plugin');
let env: NodeJS.ProcessEnv;

function run(command: string, args: readonly string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { env, encoding: 'utf8', input, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** age as a child process; resolves with its status and stderr. */
function age(args: readonly string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('age', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject).on('close', (status) => resolvePromise({ status, stderr }));
  });
}

/** Writes `bytes` of a deterministic pseudo-random stream (AES-CTR of zeros) and answers its SHA-256. */
async function writeStream(path: string, bytes: number): Promise<string> {
  const keystream = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16));
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1 << 20);
  function* chunks() {
    for (let left = bytes; left > 0; left -= chunk.length) {
      const out = keystream.update(left >= chunk.length ? chunk : chunk.subarray(0, left));
      hash.update(out);
      yield out;
    }
  }
  await pipeline(Readable.from(chunks()), createWriteStream(path));
  return hash.digest('hex');
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

beforeAll(() => {
  const passphrase = v.file('passphrase');
  writeFileSync(passphrase, 'age-plugin passphrase\n');
  env = { PATH: `${BIN}:/usr/bin:/bin`, HOME: v.file('home'), DESKKMS_VAULT: v.dir, DESKKMS_PASSPHRASE_FILE: passphrase };
  expect(spawnSync('sh', ['-c', 'command -v age-plugin-deskkms'], { env, encoding: 'utf8' }).stdout.trim()).toBe(`${BIN}/age-plugin-deskkms`);
  expect(spawnSync('age', ['--version'], { env, encoding: 'utf8' }).stdout).toMatch(/^v?1\.\d/);
});

describe('age with age-plugin-deskkms', () => {
  it('round-trips a 200 MB file encrypted to a symmetric vault key (deskkms pubkey --format age-recipient, deskkms age-identity), audited', async () => {
    const key = await makeSymmetricKey(v, 'Aliyun_AES_256');
    const recipient = run(`${BIN}/deskkms`, ['pubkey', key.keyId, '--format', 'age-recipient']);
    expect(recipient.status, recipient.stderr).toBe(0);
    expect(recipient.stdout).toMatch(/^age1deskkms1[02-9ac-hj-np-z]+\n$/);
    expect(decodeRecipient(recipient.stdout.trim())).toEqual({ kind: 'kms', keyId: key.keyId });
    const identityFile = v.file('identity.txt');
    const identity = run(`${BIN}/deskkms`, ['age-identity', key.keyId, '-o', identityFile]);
    expect(identity.status, identity.stderr).toBe(0);
    const identityLine = readFileSync(identityFile, 'utf8').split('\n').find((l) => l.startsWith('AGE-PLUGIN-DESKKMS-1'))!;
    expect(decodeIdentity(identityLine)).toEqual({ keyId: key.keyId });

    const plain = v.file('big');
    const digest = await writeStream(plain, 200 * 1024 * 1024);
    const sealed = v.file('big.age');
    const enc = await age(['-r', recipient.stdout.trim(), '-o', sealed, plain]);
    expect(enc.status, enc.stderr).toBe(0);
    const out = v.file('big.out');
    const dec = await age(['-d', '-i', identityFile, '-o', out, sealed]);
    expect(dec.status, dec.stderr).toBe(0);
    expect(await sha256Of(out)).toBe(digest);
    // One Encrypt (the file key wrapped) and one Decrypt (unwrapped), both by the plugin.
    const entries = listAuditEntries(v.vault.store.db, { keyId: key.keyId }).filter((e) => e.caller === 'age-plugin');
    expect(entries.map((e) => `${e.action} ${e.code}`)).toEqual(['Encrypt OK', 'Decrypt OK']);
  });

  it('encrypts to an RSA key with no vault (the recipient carries its public key) and decrypts through AsymmetricDecrypt', async () => {
    const rsa = await v.makeKey('RSA_2048', 'ENCRYPT/DECRYPT');
    const recipient = run(`${BIN}/deskkms`, ['pubkey', rsa.keyId, '--format', 'age-recipient', '--version', rsa.versionId]).stdout.trim();
    expect(decodeRecipient(recipient)).toMatchObject({ kind: 'rsa', keyId: rsa.keyId, keyVersionId: rsa.versionId });
    const plain = v.file('small');
    const bytes = randomBytes(100_000);
    writeFileSync(plain, bytes);
    // No vault at all while encrypting: the recipient is enough.
    const noVault = { ...env, DESKKMS_VAULT: v.file('no-vault-here') };
    const sealed = v.file('small.age');
    const enc = spawnSync('age', ['-r', recipient, '-o', sealed, plain], { env: noVault, encoding: 'utf8' });
    expect(enc.status, enc.stderr).toBe(0);
    const identityFile = v.file('rsa-identity.txt');
    writeFileSync(identityFile, `${encodeIdentity(rsa.keyId)}\n`);
    const out = v.file('small.out');
    const dec = await age(['-d', '-i', identityFile, '-o', out, sealed]);
    expect(dec.status, dec.stderr).toBe(0);
    expect(readFileSync(out).equals(bytes)).toBe(true);
    expect(listAuditEntries(v.vault.store.db, { keyId: rsa.keyId }).filter((e) => e.caller === 'age-plugin').map((e) => e.action)).toEqual(['AsymmetricDecrypt']);
  });

  it('refuses: a disabled key (age fails with the vault\'s Code), a tampered file (age\'s own check), keys age cannot use', async () => {
    const key = await makeSymmetricKey(v, 'Aliyun_SM4');
    const recipient = run(`${BIN}/deskkms`, ['pubkey', key.keyId, '--format', 'age-recipient']).stdout.trim();
    const identityFile = v.file('sm4-identity.txt');
    writeFileSync(identityFile, `${encodeIdentity(key.keyId)}\n`);
    const plain = v.file('doc');
    writeFileSync(plain, 'release notes\n'.repeat(10_000));
    const sealed = v.file('doc.age');
    expect((await age(['-r', recipient, '-o', sealed, plain])).status).toBe(0);
    expect((await age(['-d', '-i', identityFile, '-o', v.file('doc.out'), sealed])).status).toBe(0);

    const tampered = v.file('doc-tampered.age');
    const bytes = readFileSync(sealed);
    bytes[bytes.length - 100]! ^= 0x01; // in the payload
    writeFileSync(tampered, bytes);
    const refusedTamper = await age(['-d', '-i', identityFile, '-o', v.file('doc-tampered.out'), tampered]);
    expect(refusedTamper.status).not.toBe(0);
    expect(refusedTamper.stderr).toMatch(/failed to decrypt|decryption error|chunk/i);

    await v.call('DisableKey', { KeyId: key.keyId });
    const refused = await age(['-d', '-i', identityFile, '-o', v.file('doc.out2'), sealed]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/Rejected\.Disabled/);

    const signing = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const notForAge = run(`${BIN}/deskkms`, ['age-identity', signing.keyId]);
    expect(notForAge.status).toBe(1);
    expect(notForAge.stderr).toMatch(/Format\.UnsupportedKeySpec/);
  });
});
