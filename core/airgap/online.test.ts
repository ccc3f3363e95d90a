// The online half (no vault): each file is read once into its SHA-256 and the format's hashes;
// what the user gave is checked before anything is read (names, options of the format, a public
// key in any of its file forms), and a format that needs a public fact of the key refuses
// without it (Request.NeedsPublicKey).
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { KmsError } from '../contract/errors.ts';
import { MAX_ATTACHED_PAYLOAD } from '../formats/jws.ts';
import { openSshPublicKey } from '../formats/sshsig.ts';
import { createRequest, publicKeyFile, type RequestInputFile } from './online.ts';
import { parseRequest } from './request-file.ts';

const NOW = new Date('2026-12-02T08:00:00.750Z');

function file(name: string, data: string | Uint8Array, chunk = 7): RequestInputFile {
  const bytes = Buffer.from(data);
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunk) parts.push(bytes.subarray(at, at + chunk));
  return { name, size: bytes.length, chunks: Readable.from(parts) };
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KmsError) return `${error.code}: ${error.message}`;
    throw error;
  }
  return 'no error';
}

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = new Uint8Array(ec.publicKey.export({ format: 'der', type: 'spki' }));

describe('createRequest', () => {
  it('hashes each file once, in order: SHA-256 for the operator, the format\'s own hashes for the station', async () => {
    const seen: number[] = [];
    const a = 'the first release artifact\n'.repeat(100);
    const { request, bytes } = await createRequest(
      { key: 'alias/release', format: 'ssh', options: { Namespace: 'git' }, note: 'v1', files: [file('a.tgz', a), file('b.txt', 'b')], now: NOW },
      (done, total) => seen.push(done, total),
    );
    expect(parseRequest(bytes)).toEqual(request);
    expect(request).toMatchObject({ Key: 'alias/release', Format: 'ssh', Options: { Namespace: 'git' }, Note: 'v1', Created: '2026-12-02T08:00:00Z' });
    expect(request.RequestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(request.Files.map((f) => [f.Name, f.Size, f.Sha256])).toEqual([
      ['a.tgz', a.length, createHash('sha256').update(a).digest('hex')],
      ['b.txt', 1, createHash('sha256').update('b').digest('hex')],
    ]);
    // A request's SSHSIG hashes with sha256: the file's SHA-256 crosses (the one shown), not the file.
    expect(request.Files[0]!.Prepared).toEqual({ Sha256: createHash('sha256').update(a).digest('base64') });
    expect(seen.slice(-2)).toEqual([a.length + 1, a.length + 1]);
    expect(new TextDecoder().decode(bytes)).not.toContain('the first release artifact');
  });

  it('pins the key given as SPKI PEM, DER, an OpenSSH line or a JWK (whose kid names the version)', async () => {
    const pem = new TextEncoder().encode(ec.publicKey.export({ format: 'pem', type: 'spki' }) as string);
    const jwk = { ...ec.publicKey.export({ format: 'jwk' }), kid: '2b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d' };
    const forms = [pem, spki, new TextEncoder().encode(`${openSshPublicKey(spki, 'me@example.org')}\n`), new TextEncoder().encode(JSON.stringify(jwk))];
    for (const form of forms) expect(Buffer.from(publicKeyFile(form).key.spki)).toEqual(Buffer.from(spki));
    const { request } = await createRequest({ key: 'alias/release', publicKey: forms[3], format: 'raw', options: {}, files: [file('a', 'a')], now: NOW });
    expect(request).toMatchObject({ PublicKey: Buffer.from(spki).toString('base64'), KeyVersionId: jwk.kid });
    expect(await code(createRequest({ key: 'k', keyVersionId: '3b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d', publicKey: forms[3], format: 'raw', options: {}, files: [file('a', 'a')] }))).toMatch(
      /^InvalidParameter: --version: .* is not the --public-key JWK's kid/,
    );
    expect(await code(createRequest({ key: 'k', publicKey: new TextEncoder().encode('not a key'), format: 'raw', options: {}, files: [file('a', 'a')] }))).toMatch(/^InvalidParameter: --public-key/);
  });

  it('refuses before reading: a name twice, a path, an option of another format, no file, too many notes', async () => {
    const base = { key: 'alias/release', format: 'ssh' as const, options: {}, now: NOW };
    expect(await code(createRequest({ ...base, files: [file('a', '1'), file('a', '2')] }))).toMatch(/^InvalidParameter: --in: two files are named a/);
    expect(await code(createRequest({ ...base, files: [file('dir/a', '1')] }))).toMatch(/^InvalidParameter: --in: dir\/a: the name must be a file name/);
    expect(await code(createRequest({ ...base, options: { UserId: 'x' }, files: [file('a', '1')] }))).toBe('InvalidParameter: Options.UserId: is not an option of the ssh format');
    expect(await code(createRequest({ ...base, files: [] }))).toBe('InvalidParameter: --in: give at least one file');
    expect(await code(createRequest({ ...base, note: 'x'.repeat(1025), files: [file('a', '1')] }))).toMatch(/^InvalidParameter: --note/);
    expect(await code(createRequest({ ...base, keyVersionId: 'v1', files: [file('a', '1')] }))).toMatch(/^InvalidParameter: --version/);
    // A file that changed size while it was read.
    expect(await code(createRequest({ ...base, files: [{ ...file('a', '12345'), size: 9 }] }))).toMatch(/the file changed while it was read/);
  });

  it('jws hashes its header first: without the key version and public key it is Request.NeedsPublicKey; the payload never crosses', async () => {
    expect(await code(createRequest({ key: 'alias/release', format: 'jws', options: {}, files: [file('a', 'a')], now: NOW }))).toMatch(/^Request\.NeedsPublicKey/);
    const payload = 'a payload the token will carry once finished\n';
    const { bytes } = await createRequest({ key: 'alias/release', keyVersionId: '2b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d', publicKey: spki, format: 'jws', options: {}, files: [file('a.json', payload)], now: NOW });
    const text = new TextDecoder().decode(bytes);
    expect(text).not.toContain(Buffer.from(payload).toString('base64url').slice(0, 24));
    expect(text).not.toContain(Buffer.from(payload).toString('base64').slice(0, 24));
    // A payload too large to attach is refused before anything is read (finish could not attach it).
    const big = { name: 'big.bin', size: MAX_ATTACHED_PAYLOAD + 1, chunks: Readable.from([]) };
    expect(await code(createRequest({ key: 'k', keyVersionId: '2b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d', publicKey: spki, format: 'jws', options: {}, files: [big] }))).toMatch(/^InvalidParameter: --in: big\.bin: .* give --detached/);
  });

  it('a spec the format cannot carry is refused when the pinned key shows it', async () => {
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const der = new Uint8Array(k1.publicKey.export({ format: 'der', type: 'spki' }));
    expect(await code(createRequest({ key: 'k', publicKey: der, format: 'ssh', options: {}, files: [file('a', 'a')], now: NOW }))).toMatch(/^Format\.UnsupportedKeySpec/);
  });

  it('csr: carries the CSR in one canonical PEM form (PEM, NEW label or DER in), refuses anything else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deskkms-online-csr-'));
    try {
      execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-subj', '/CN=host.example.org', '-out', join(dir, 'host.csr')], { stdio: 'ignore' });
      execFileSync('openssl', ['req', '-in', join(dir, 'host.csr'), '-outform', 'DER', '-out', join(dir, 'host.der')]);
      const csr = readFileSync(join(dir, 'host.csr'), 'utf8');
      const der = readFileSync(join(dir, 'host.der'));
      const { request } = await createRequest({ key: 'alias/ca', format: 'csr', options: { ValidityDays: 30 }, files: [file('host.csr', csr)], now: NOW });
      expect(request).toMatchObject({ Csr: csr, Files: [{ Name: 'host.csr', Size: csr.length, Sha256: createHash('sha256').update(csr).digest('hex') }] });
      expect(request.Files[0]!.Prepared).toBeUndefined();
      // The old "NEW CERTIFICATE REQUEST" label, CRLF lines, white space around, and DER: the same canonical block.
      const relabelled = `\n${csr.replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST').replace(/\n/g, '\r\n')}\n`;
      for (const input of [relabelled, der]) {
        const made = await createRequest({ key: 'alias/ca', format: 'csr', options: {}, files: [file('host.csr', input)], now: NOW });
        expect(made.request.Csr).toBe(csr);
        expect(made.request.Files[0]!.Sha256).toBe(createHash('sha256').update(csr).digest('hex'));
      }
      const refused = async (name: string, data: string | Uint8Array) => code(createRequest({ key: 'alias/ca', format: 'csr', options: {}, files: [file(name, data)] }));
      expect(await refused('host.der', new Uint8Array([0x30, 0x82, 0xff]))).toMatch(/^InvalidParameter: --in: host\.der: is not one DER CertificationRequest/);
      expect(await refused('fake.csr', '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n')).toMatch(/^InvalidParameter: --in: fake\.csr: is not one DER CertificationRequest/);
      expect(await refused('text.csr', `Certificate Request:\n    Data: ...\n${csr}`)).toMatch(/^InvalidParameter: --in: text\.csr: is not one PEM "CERTIFICATE REQUEST" block/);
      expect(await refused('mixed.csr', csr.replace('END CERTIFICATE REQUEST', 'END NEW CERTIFICATE REQUEST'))).toMatch(/is not one PEM "CERTIFICATE REQUEST" block/);
      expect(await refused('trailing.der', Buffer.concat([der, Buffer.from([0])]))).toMatch(/is not one DER CertificationRequest/);
      expect(await code(createRequest({ key: 'alias/ca', format: 'csr', options: {}, files: [file('a.csr', csr), file('b.csr', csr)] }))).toMatch(/one CSR file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
