// The passphrase-wrapped data key (stations without a keychain): scrypt + AES-256-GCM.
import { createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KmsError } from '../../core/contract/errors.ts';
import { unwrapDataKey, wrapDataKey, type WrappedDataKey } from '../../core/keychain/passphrase.ts';
import { readPassphrase } from '../../core/vault/secrets.ts';
import { rejection } from '../support/errors.ts';

const N = 2 ** 14; // fast for tests; one test below uses the default
const passphrase = new TextEncoder().encode('correct horse battery staple');
const dataKey = new Uint8Array(randomBytes(32));
const wrapped = await wrapDataKey(dataKey, passphrase, { N });


function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

function flipByte(base64: string, index: number): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return bytes.toString('base64');
}

function withField(field: string, value: unknown): Record<string, unknown> {
  return { ...wrapped, [field]: value };
}

describe('wrapDataKey / unwrapDataKey', () => {
  it('round-trips through JSON', async () => {
    const fromDisk: unknown = JSON.parse(JSON.stringify(wrapped));
    expect(await unwrapDataKey(fromDisk, passphrase)).toEqual(dataKey);
  });

  it('writes the documented format: scrypt N/r/p, 16-byte salt, 12-byte nonce, ct||tag', async () => {
    expect(wrapped).toMatchObject({ kdf: 'scrypt', N, r: 8, p: 1 });
    expect(Object.keys(wrapped).sort()).toEqual(['N', 'ciphertext', 'kdf', 'nonce', 'p', 'r', 'salt']);
    const salt = Buffer.from(wrapped.salt, 'base64');
    const nonce = Buffer.from(wrapped.nonce, 'base64');
    const ciphertext = Buffer.from(wrapped.ciphertext, 'base64');
    expect([salt.length, nonce.length, ciphertext.length]).toEqual([16, 12, 48]);
    // An independent decryption with node:crypto's synchronous primitives, from the documented format.
    const kek = scryptSync(passphrase, salt, 32, { N, r: 8, p: 1 });
    const decipher = createDecipheriv('aes-256-gcm', kek, nonce);
    decipher.setAAD(Buffer.from('deskkms-datakey-v1', 'utf8'));
    decipher.setAuthTag(ciphertext.subarray(32));
    expect(new Uint8Array(Buffer.concat([decipher.update(ciphertext.subarray(0, 32)), decipher.final()]))).toEqual(dataKey);
    await Promise.resolve();
  });

  it('uses a fresh salt and nonce each time', async () => {
    const again = await wrapDataKey(dataKey, passphrase, { N });
    expect(again.salt).not.toBe(wrapped.salt);
    expect(again.nonce).not.toBe(wrapped.nonce);
    expect(again.ciphertext).not.toBe(wrapped.ciphertext);
  });

  it('defaults to N = 2^17, r = 8, p = 1 (128 MiB) and unwraps that', async () => {
    const strong = await wrapDataKey(dataKey, passphrase);
    expect(strong).toMatchObject({ kdf: 'scrypt', N: 2 ** 17, r: 8, p: 1 });
    expect(await unwrapDataKey(strong, passphrase)).toEqual(dataKey);
  });

  it.each([
    ['a different passphrase', 'correct horse battery stapler'],
    ['the passphrase with its newline', 'correct horse battery staple\n'],
    ['an empty passphrase', ''],
  ])('refuses %s: Vault.Locked', async (_, other) => {
    const error = await rejection(unwrapDataKey(wrapped, new TextEncoder().encode(other)));
    expect(error.code).toBe('Vault.Locked');
    expect(error.message).toBe('the passphrase does not unlock this vault');
  });

  it('refuses to wrap a data key that is not 32 bytes, an empty passphrase, or a bad N', async () => {
    for (const [key, pass, options] of [
      [randomBytes(16), passphrase, { N }],
      [dataKey, new Uint8Array(0), { N }],
      [dataKey, passphrase, { N: 3 * 2 ** 14 }],
      [dataKey, passphrase, { N: 2 ** 13 }],
      [dataKey, passphrase, { N: 2 ** 23 }],
    ] as const) {
      expect((await rejection(wrapDataKey(key, pass, options))).code).toBe('InvalidParameter');
    }
  });
});

describe('unwrapDataKey never returns a wrong key from a tampered file', () => {
  it.each([
    ['null', null],
    ['an array', [wrapped]],
    ['a string', JSON.stringify(wrapped)],
    ['kdf: pbkdf2', withField('kdf', 'pbkdf2')],
    ['kdf missing', withField('kdf', undefined)],
    ['N not a power of two', withField('N', 3 * 2 ** 14)],
    ['N below 2^14', withField('N', 2 ** 13)],
    ['N above 2^22', withField('N', 2 ** 23)],
    ['N a string', withField('N', '16384')],
    ['N fractional', withField('N', 16384.5)],
    ['N and r asking for 4 GiB', { ...wrapped, N: 2 ** 22, r: 8 }],
    ['r zero', withField('r', 0)],
    ['r too large', withField('r', 1000)],
    ['r fractional', withField('r', 8.5)],
    ['p zero', withField('p', 0)],
    ['p too large', withField('p', 1000)],
    ['p missing', withField('p', undefined)],
    ['salt not base64', withField('salt', 'not base64!')],
    ['salt unpadded', withField('salt', wrapped.salt.replace(/=+$/, ''))],
    ['salt 8 bytes', withField('salt', b64(randomBytes(8)))],
    ['nonce 16 bytes', withField('nonce', b64(randomBytes(16)))],
    ['nonce a number', withField('nonce', 12)],
    ['ciphertext without its tag', withField('ciphertext', b64(Buffer.from(wrapped.ciphertext, 'base64').subarray(0, 32)))],
    ['ciphertext with a byte more', withField('ciphertext', b64(Buffer.concat([Buffer.from(wrapped.ciphertext, 'base64'), Buffer.of(0)])))],
  ])('%s: Vault.Corrupt naming the field', async (name, tampered) => {
    const error = await rejection(unwrapDataKey(tampered, passphrase));
    expect(error.code).toBe('Vault.Corrupt');
    expect(error.message).toMatch(/^passphrase-wrapped data key: /);
    const field = /^(kdf|N|r|p|salt|nonce|ciphertext)\b/.exec(name)?.[1];
    if (field !== undefined) expect(error.message).toContain(`data key: ${field} `);
  });

  it.each([
    ['N', { ...wrapped, N: 2 ** 15 }],
    ['r', { ...wrapped, r: 7 }],
    ['p', { ...wrapped, p: 2 }],
    ['salt', { ...wrapped, salt: flipByte(wrapped.salt, 0) }],
    ['nonce', { ...wrapped, nonce: flipByte(wrapped.nonce, 11) }],
  ] satisfies [string, WrappedDataKey][])('well-formed but changed %s: Vault.Locked', async (_, tampered) => {
    expect((await rejection(unwrapDataKey(tampered, passphrase))).code).toBe('Vault.Locked');
  });

  it('every ciphertext and tag byte changed: Vault.Locked', async () => {
    for (let index = 0; index < 48; index++) {
      const tampered = { ...wrapped, ciphertext: flipByte(wrapped.ciphertext, index) };
      const error = await rejection(unwrapDataKey(tampered, passphrase));
      expect([index, error.code]).toEqual([index, 'Vault.Locked']);
    }
  });

  it('ignores fields it does not know', async () => {
    expect(await unwrapDataKey({ ...wrapped, comment: 'written by a later version' }, passphrase)).toEqual(dataKey);
  });
});

describe('readPassphrase', () => {
  const text = (s: string) => new TextEncoder().encode(s);
  const read = (s: string) => new TextDecoder().decode(readPassphrase(text(s)));

  it.each([
    ['pass phrase', 'pass phrase'],
    ['pass phrase\n', 'pass phrase'],
    ['pass phrase\r\n', 'pass phrase'],
    ['pass phrase\n\n', 'pass phrase\n'],
    ['pass phrase\r\n\r\n', 'pass phrase\r\n'],
    ['pass phrase\r', 'pass phrase\r'],
    ['\n pass phrase \n', '\n pass phrase '],
    ['\r', '\r'],
  ])('%j reads as %j', (file, expected) => {
    expect(read(file)).toBe(expected);
  });

  it.each(['', '\n', '\r\n'])('%j is refused: InvalidParameter "Passphrase: is empty"', (file) => {
    let error: unknown;
    try {
      readPassphrase(text(file));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KmsError);
    expect((error as KmsError).code).toBe('InvalidParameter');
    expect((error as KmsError).message).toBe('Passphrase: is empty');
  });

  it('returns a view of the file bytes, so zeroing those zeroes it', () => {
    const bytes = text('secret\n');
    const pass = readPassphrase(bytes);
    bytes.fill(0);
    expect(pass).toEqual(new Uint8Array(6));
  });
});
