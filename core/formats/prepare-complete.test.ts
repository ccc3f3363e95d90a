// Every format in two halves, as a signing request runs them (issue 15): prepare() over a file
// streamed in uneven chunks with nothing known of the key (jws: its spec and version only), the
// Prepared carried as JSON, then complete() by the key version at the station, signed through the
// handler table (one AsymmetricSign audited as "test:<format>"). The file it makes is checked by the
// format's own verify() and by the peers nobody here wrote: ssh-keygen -Y verify, gpg and sq (whose
// OpenPGP layout differs from direct signing: the issuer is unhashed), OpenPGP.js, openssl and
// jose. A changed byte fails each; complete()'s refusals carry their Codes. Direct signing (begin)
// is the same route: its Digest equals the two halves' for the same key and file.
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify, flattenedVerify } from 'jose';
import type * as OpenPgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, chooseSigningKey, completeSignature, type Signer } from '../actions/format-signing.ts';
import { listAuditEntries } from '../audit/audit-log.ts';
import type { KeySpec, SigningAlgorithm } from '../contract/specs.ts';
import { importPublicKey, publicKeyPem } from '../crypto/public-key.ts';
import { useActionVault } from '../../test/support/action-vault.ts';
import { createHash } from 'node:crypto';
import { codeOf, verifyInChunks } from '../../test/support/formats.ts';
import { flipByte } from '../../test/interop/openssl-peer.ts';
import type { FormatOptions, KnownKey, PreparedMessage, SignatureFormatName, SigningKeyInfo, VerifyMaterial } from './format.ts';
import { MAX_ATTACHED_PAYLOAD, attachJwsPayload } from './jws.ts';
import { beginCertificate, openpgpFingerprint } from './openpgp.ts';
import { SUBPACKET, dearmor, readPackets, readSubpackets, Reader } from './openpgp-packets.ts';
import { signatureFormat } from './registry.ts';
import { allowedSignersLine } from './sshsig.ts';

// OpenPGP.js's browser build (its Node build lacks secp256k1 without the optional eckey-utils).
const openpgp = (await import(new URL('../../node_modules/openpgp/dist/openpgp.mjs', import.meta.url).href)) as typeof OpenPgp;

const v = useActionVault('prepare-complete');
const signer = (): Signer => ({ vault: v.vault, caller: 'test' });
const MESSAGE = new Uint8Array(150_003).map((_, i) => (i * 31 + 7) & 0xff);
const CHANGED = flipByte(MESSAGE, 77_777);
const CHUNK = 4099;
const USER_ID = 'Air Gap Release <airgap@deskkms.example>';

let work: string;
let gnupgHome: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'deskkms-prepare-complete-'));
  gnupgHome = join(work, 'gnupg');
  mkdirSync(gnupgHome, { mode: 0o700 });
});

afterAll(() => {
  if (gnupgHome) spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: gnupgHome } });
  if (work) rmSync(work, { recursive: true, force: true });
});

function run(command: string, args: readonly string[], input?: Uint8Array): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { cwd: work, env: { ...process.env, GNUPGHOME: gnupgHome, LC_ALL: 'C' }, ...(input ? { input } : {}), encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let files = 0;
function write(name: string, bytes: Uint8Array | string): string {
  const path = join(work, `${++files}-${name}`);
  writeFileSync(path, bytes);
  return path;
}

const keys = new Map<KeySpec, SigningKeyInfo>();
async function keyOf(spec: KeySpec, fresh = false): Promise<SigningKeyInfo> {
  const cached = keys.get(spec);
  if (cached && !fresh) return cached;
  const made = await v.makeKey(spec, 'SIGN/VERIFY');
  const key = await chooseSigningKey(signer(), made.keyId, made.versionId);
  if (!fresh) keys.set(spec, key);
  return key;
}

const pemOf = (key: SigningKeyInfo): string => publicKeyPem(importPublicKey(key.spki));

/** The online half: the file streamed once through prepare(), the result as it crosses in a request (JSON). */
function prepareOver(format: SignatureFormatName, known: KnownKey, options: FormatOptions, message = MESSAGE): PreparedMessage {
  const pending = signatureFormat(format).prepare(known, options);
  for (let at = 0; at < message.length; at += CHUNK) pending.update(message.subarray(at, at + CHUNK));
  const prepared = pending.prepared();
  for (const [name, value] of Object.entries(prepared)) expect(['string', 'number', 'boolean'], name).toContain(typeof value);
  return JSON.parse(JSON.stringify(prepared)) as PreparedMessage;
}

/** The station's half: complete() by the key, one AsymmetricSign through dispatch, the file. */
async function station(format: SignatureFormatName, key: SigningKeyInfo, options: FormatOptions, prepared: PreparedMessage): Promise<Uint8Array> {
  const before = listAuditEntries(v.vault.store.db, { newestFirst: true, limit: 1 })[0]!.seq;
  const signature = signatureFormat(format).complete(key, options, prepared);
  const { algorithm, digest } = signature.toSign();
  const signed = await call(signer(), 'AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.keyVersionId, Algorithm: algorithm, Digest: Buffer.from(digest).toString('base64') }, format);
  const signs = listAuditEntries(v.vault.store.db, { action: 'AsymmetricSign' }).filter((e) => e.seq > before);
  expect(signs.map((e) => [e.caller, e.code, e.keyVersionId])).toEqual([[`test:${format}`, 'OK', key.keyVersionId]]);
  return signature.finish(new Uint8Array(Buffer.from(signed.Value, 'base64')));
}

/** The Digest direct signing (begin, the whole key known) asks AsymmetricSign for. */
function directDigest(format: SignatureFormatName, key: SigningKeyInfo, options: FormatOptions): Uint8Array {
  const pending = signatureFormat(format).begin(key, options);
  for (let at = 0; at < MESSAGE.length; at += 10_000) pending.update(MESSAGE.subarray(at, at + 10_000));
  return pending.toSign().digest;
}

const completeCode = (format: SignatureFormatName, key: SigningKeyInfo, options: FormatOptions, prepared: PreparedMessage) =>
  codeOf(() => signatureFormat(format).complete(key, options, prepared));

const messageSha256 = (message = MESSAGE): Uint8Array => new Uint8Array(createHash('sha256').update(message).digest());
const fileSha256Of = (format: SignatureFormatName, prepared: PreparedMessage) => signatureFormat(format).fileSha256(prepared);

const ownVerify = (format: SignatureFormatName, signature: Uint8Array, message: Uint8Array, material: VerifyMaterial) => verifyInChunks(signatureFormat(format), signature, message, material, 999);

describe('ssh: {Sha256} prepared for a request (sha256 SSHSIG), {Sha512} when signing at once', () => {
  for (const spec of ['RSA_2048', 'EC_P256'] as const) {
    it(`${spec}: ssh-keygen -Y verify and verify() accept it in namespace "git", refuse a changed byte; direct signing signs the same Digest`, async () => {
      const key = await keyOf(spec);
      const prepared = prepareOver('ssh', {}, { namespace: 'git' });
      expect(Object.keys(prepared)).toEqual(['Sha256']);
      // The request's hash is the file's SHA-256 itself: what the station shows, it checks.
      expect(fileSha256Of('ssh', prepared)).toEqual(messageSha256());
      const sig = await station('ssh', key, { namespace: 'git' }, prepared);
      const material = { publicKey: new TextEncoder().encode(pemOf(key)), namespace: 'git' };
      expect(ownVerify('ssh', sig, MESSAGE, material)).toMatchObject({ valid: true });
      expect(ownVerify('ssh', sig, CHANGED, material)).toMatchObject({ valid: false });
      expect(ownVerify('ssh', sig, MESSAGE, { ...material, namespace: 'file' })).toMatchObject({ valid: false });

      const allowed = write('allowed_signers', `${allowedSignersLine(key.spki, 'release@deskkms.example')}\n`);
      const sigFile = write('file.sig', sig);
      const good = run('ssh-keygen', ['-Y', 'verify', '-f', allowed, '-I', 'release@deskkms.example', '-n', 'git', '-s', sigFile], MESSAGE);
      expect(good.status, good.stderr).toBe(0);
      expect(good.stdout).toMatch(/Good "git" signature for release@deskkms.example/);
      const bad = run('ssh-keygen', ['-Y', 'verify', '-f', allowed, '-I', 'release@deskkms.example', '-n', 'git', '-s', sigFile], CHANGED);
      expect(bad.status).not.toBe(0);

      // A request made with the public key (no CreationDate online) is still sha256.
      expect(prepareOver('ssh', { spec, spki: key.spki }, { namespace: 'git' })).toEqual(prepared);
      // Signing at once keeps sha512 ({Sha512}, no file SHA-256 derivable): the same Digest as begin, and ssh-keygen accepts it.
      const prepareWithKey = prepareOver('ssh', key, { namespace: 'git' });
      expect(Object.keys(prepareWithKey)).toEqual(['Sha512']);
      expect(fileSha256Of('ssh', prepareWithKey)).toBeUndefined();
      expect(signatureFormat('ssh').complete(key, { namespace: 'git' }, prepareWithKey).toSign().digest).toEqual(directDigest('ssh', key, { namespace: 'git' }));
      const direct = write('direct.sig', await station('ssh', key, { namespace: 'git' }, prepareWithKey));
      const goodDirect = run('ssh-keygen', ['-Y', 'verify', '-f', allowed, '-I', 'release@deskkms.example', '-n', 'git', '-s', direct], MESSAGE);
      expect(goodDirect.status, goodDirect.stderr).toBe(0);
      expect(run('ssh-keygen', ['-Y', 'verify', '-f', allowed, '-I', 'release@deskkms.example', '-n', 'git', '-s', direct], CHANGED).status).not.toBe(0);
    });
  }

  it('refusals: a key SSH cannot carry, missing/extra/malformed members; namespace checked', async () => {
    const prepared = prepareOver('ssh', {}, {});
    const k1 = await keyOf('EC_P256K');
    const p256 = await keyOf('EC_P256');
    expect(completeCode('ssh', k1, {}, prepared)).toMatch(/^Format\.UnsupportedKeySpec: /);
    expect(codeOf(() => signatureFormat('ssh').prepare({ spec: 'EC_SM2' }, {}))).toMatch(/^Format\.UnsupportedKeySpec: /);
    expect(completeCode('ssh', p256, {}, {})).toMatch(/^Request\.Malformed: .*Sha512 or Sha256 is missing/);
    expect(completeCode('ssh', p256, {}, { ...prepared, Sha512: Buffer.alloc(64).toString('base64') })).toMatch(/^Request\.Malformed: .*both/);
    expect(completeCode('ssh', p256, {}, { Sha256: Buffer.alloc(64).toString('base64') })).toMatch(/^Request\.Malformed: .*Sha256 is 64 bytes, not 32/);
    expect(codeOf(() => signatureFormat('ssh').fileSha256({ Other: 'x' }))).toMatch(/^Request\.Malformed: /);
    expect(completeCode('ssh', p256, {}, { Sha512: 'not base64!' })).toMatch(/^Request\.Malformed: .*Sha512 is not base64/);
    expect(completeCode('ssh', p256, {}, { Sha512: Buffer.alloc(32).toString('base64') })).toMatch(/^Request\.Malformed: .*Sha512 is 32 bytes, not 64/);
    expect(completeCode('ssh', p256, {}, { Sha512: 7 })).toMatch(/^Request\.Malformed: .*Sha512/);
    expect(completeCode('ssh', p256, {}, { ...prepared, Extra: 'x' })).toMatch(/^Request\.Malformed: .*Extra is not a member/);
    expect(completeCode('ssh', p256, { namespace: 'bad namespace' }, prepared)).toMatch(/^InvalidParameter: --namespace/);
  });
});

describe('sigstore: {Sha256}', () => {
  for (const spec of ['RSA_2048', 'EC_P256'] as const) {
    it(`${spec}: the bundle verifies, a changed byte does not; direct signing signs the same Digest`, async () => {
      const key = await keyOf(spec);
      const prepared = prepareOver('sigstore', {}, {});
      expect(Object.keys(prepared)).toEqual(['Sha256']);
      expect(fileSha256Of('sigstore', prepared)).toEqual(messageSha256());
      const bundle = await station('sigstore', key, {}, prepared);
      const material = { publicKey: new TextEncoder().encode(pemOf(key)) };
      expect(ownVerify('sigstore', bundle, MESSAGE, material)).toMatchObject({ valid: true });
      expect(ownVerify('sigstore', bundle, CHANGED, material)).toMatchObject({ valid: false });
      expect(signatureFormat('sigstore').complete(key, {}, prepared).toSign().digest).toEqual(directDigest('sigstore', key, {}));
    });
  }

  it('refusals: SM2 and secp256k1 keys, a malformed Sha256', async () => {
    const prepared = prepareOver('sigstore', {}, {});
    expect(completeCode('sigstore', await keyOf('EC_SM2'), {}, prepared)).toMatch(/^Format\.UnsupportedKeySpec: /);
    expect(completeCode('sigstore', await keyOf('EC_P256K'), {}, prepared)).toMatch(/^Format\.UnsupportedKeySpec: /);
    expect(completeCode('sigstore', await keyOf('EC_P256'), {}, { Sha256: 'AAAA' })).toMatch(/^Request\.Malformed: .*Sha256 is 3 bytes, not 32/);
    expect(completeCode('sigstore', await keyOf('EC_P256'), {}, { Sha512: prepared.Sha256! })).toMatch(/^Request\.Malformed: .*Sha512 is not a member/);
  });
});

describe('raw: {Sha256}, or {Sm3Za, SpkiSha256} for a known SM2 key', () => {
  const cases: { spec: KeySpec; algorithm?: SigningAlgorithm }[] = [
    { spec: 'RSA_2048' },
    { spec: 'RSA_2048', algorithm: 'RSA_PSS_SHA_256' },
    { spec: 'EC_P256' },
    { spec: 'EC_P256K' },
  ];
  for (const { spec, algorithm } of cases) {
    it(`${spec}${algorithm ? ` ${algorithm}` : ''}: openssl dgst -verify and verify() accept it, not a changed byte`, async () => {
      const key = await keyOf(spec);
      const options = algorithm ? { algorithm } : {};
      const prepared = prepareOver('raw', {}, options);
      expect(Object.keys(prepared)).toEqual(['Sha256']);
      expect(fileSha256Of('raw', prepared)).toEqual(messageSha256());
      const sig = await station('raw', key, options, prepared);
      const material = { publicKey: new TextEncoder().encode(pemOf(key)), ...options };
      expect(ownVerify('raw', sig, MESSAGE, material)).toMatchObject({ valid: true });
      expect(ownVerify('raw', sig, CHANGED, material)).toMatchObject({ valid: false });
      const pem = write('pub.pem', pemOf(key));
      const sigFile = write('raw.sig', sig);
      const pss = algorithm === 'RSA_PSS_SHA_256' ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'] : [];
      const good = run('openssl', ['dgst', '-sha256', '-verify', pem, '-signature', sigFile, ...pss, write('m', MESSAGE)]);
      expect(good.status, good.stderr).toBe(0);
      expect(good.stdout).toMatch(/Verified OK/);
      expect(run('openssl', ['dgst', '-sha256', '-verify', pem, '-signature', sigFile, ...pss, write('c', CHANGED)]).status).not.toBe(0);
      expect(signatureFormat('raw').complete(key, options, prepared).toSign().digest).toEqual(directDigest('raw', key, options));
    });
  }

  it('EC_SM2: prepared with its public key (SM3 over Z_A), completed by it; openssl (distid) and verify() accept it', async () => {
    const key = await keyOf('EC_SM2');
    const prepared = prepareOver('raw', { spki: key.spki }, {});
    expect(Object.keys(prepared).sort()).toEqual(['Sm3Za', 'SpkiSha256']);
    // SM3 over Z_A then the file: no SHA-256 of the file in it.
    expect(fileSha256Of('raw', prepared)).toBeUndefined();
    const sig = await station('raw', key, {}, prepared);
    const material = { publicKey: new TextEncoder().encode(pemOf(key)) };
    expect(ownVerify('raw', sig, MESSAGE, material)).toMatchObject({ valid: true });
    expect(ownVerify('raw', sig, CHANGED, material)).toMatchObject({ valid: false });
    const pem = write('sm2.pem', pemOf(key));
    const sigFile = write('sm2.sig', sig);
    const good = run('openssl', ['dgst', '-sm3', '-verify', pem, '-signature', sigFile, '-sigopt', 'distid:1234567812345678', write('m', MESSAGE)]);
    expect(good.status, good.stderr).toBe(0);
    expect(run('openssl', ['dgst', '-sm3', '-verify', pem, '-signature', sigFile, '-sigopt', 'distid:1234567812345678', write('c', CHANGED)]).status).not.toBe(0);
    expect(signatureFormat('raw').complete(key, {}, prepared).toSign().digest).toEqual(directDigest('raw', key, {}));
  });

  it('refusals: an SM2 key for a request without its public key, another SM2 key, an SM2 preparation for another spec', async () => {
    const sm2 = await keyOf('EC_SM2');
    const other = await keyOf('EC_SM2', true);
    const p256 = await keyOf('EC_P256');
    const plain = prepareOver('raw', {}, {});
    const forSm2 = prepareOver('raw', { spki: sm2.spki }, {});
    expect(completeCode('raw', sm2, {}, plain)).toMatch(/^Request\.NeedsPublicKey: .*--public-key/);
    expect(codeOf(() => signatureFormat('raw').prepare({ spec: 'EC_SM2' }, {}))).toMatch(/^Request\.NeedsPublicKey: /);
    expect(completeCode('raw', other, {}, forSm2)).toMatch(/^Request\.Mismatch: .*another SM2 public key/);
    expect(completeCode('raw', p256, {}, forSm2)).toMatch(/^Request\.Mismatch: .*SM2 key/);
    expect(completeCode('raw', p256, {}, {})).toMatch(/^Request\.Malformed: .*Sha256 is missing/);
    expect(completeCode('raw', sm2, {}, { Sm3Za: forSm2.Sm3Za! })).toMatch(/^Request\.Malformed: .*SpkiSha256 is missing/);
    expect(completeCode('raw', sm2, {}, { ...forSm2, Sha256: plain.Sha256! })).toMatch(/^Request\.Malformed: .*both/);
    expect(completeCode('raw', p256, { algorithm: 'RSA_PSS_SHA_256' }, plain)).toMatch(/^InvalidParameter: /);
  });
});

/** The subpacket types of a detached signature's hashed and unhashed areas. */
function subpacketTypes(armored: Uint8Array): { hashed: number[]; unhashed: number[] } {
  const [sig] = readPackets(dearmor(armored, 'PGP SIGNATURE', 'signature'), 'signature');
  const r = new Reader(sig!.body, 'signature');
  r.take(4, 'head');
  const hashed = readSubpackets(r.take(r.u16('hashed length'), 'hashed'), 'hashed').map((s) => s.type);
  const unhashed = readSubpackets(r.take(r.u16('unhashed length'), 'unhashed'), 'unhashed').map((s) => s.type);
  return { hashed, unhashed };
}

describe('openpgp: issuer unhashed when the key is not known, the SHA-256 state after the file', () => {
  for (const spec of ['RSA_2048', 'EC_P256', 'EC_P256K'] as const) {
    it(`${spec}: gpg${spec === 'EC_P256K' ? '' : ', sq'}, OpenPGP.js and verify() accept it; a changed byte is refused by each`, async () => {
      const key = await keyOf(spec);
      const fpr = openpgpFingerprint(key);
      const cert = await completeSignature(signer(), key, 'openpgp', beginCertificate(key, USER_ID));
      const time = new Date(Math.floor(key.created.getTime() / 1000) * 1000 + 60_000);
      const prepared = prepareOver('openpgp', {}, { time });
      expect(Object.keys(prepared).sort()).toEqual(['Layout', 'Length', 'Midstate', 'Tail', 'Time']);
      expect(prepared).toMatchObject({ Layout: 'issuer-unhashed-midstate', Time: time.getTime() / 1000, Length: MESSAGE.length });
      expect(Buffer.from(prepared.Tail as string, 'base64')).toEqual(Buffer.from(MESSAGE.subarray(MESSAGE.length - (MESSAGE.length % 64))));
      // The state finished with padding alone is the file's SHA-256 (what the station shows and checks).
      expect(fileSha256Of('openpgp', prepared)).toEqual(messageSha256());
      const sig = await station('openpgp', key, { time }, prepared);
      expect(subpacketTypes(sig)).toEqual({ hashed: [SUBPACKET.creationTime], unhashed: [SUBPACKET.issuerFingerprint, SUBPACKET.issuer] });

      expect(ownVerify('openpgp', sig, MESSAGE, { certificate: cert })).toMatchObject({ valid: true, signer: `${USER_ID} (${fpr})` });
      expect(ownVerify('openpgp', sig, CHANGED, { certificate: cert })).toMatchObject({ valid: false });

      const certFile = write('cert.asc', cert);
      const sigFile = write('file.asc', sig);
      const file = write('file', MESSAGE);
      const changedFile = write('changed', CHANGED);
      const imported = run('gpg', ['--batch', '--no-tty', '--status-fd', '1', '--import', certFile]);
      expect(imported.status, imported.stderr).toBe(0);
      const good = run('gpg', ['--batch', '--no-tty', '--status-fd', '1', '--trust-model', 'always', '--verify', sigFile, file]);
      expect(good.status, good.stderr).toBe(0);
      expect(good.stdout).toContain(`[GNUPG:] GOODSIG ${fpr.slice(24)} ${USER_ID}`);
      expect(good.stdout).toMatch(new RegExp(`\\[GNUPG:\\] VALIDSIG ${fpr} \\d{4}-\\d\\d-\\d\\d ${time.getTime() / 1000} 0 4 0 ${spec === 'RSA_2048' ? 1 : 19} 8 00 ${fpr}`));
      const bad = run('gpg', ['--batch', '--no-tty', '--status-fd', '1', '--trust-model', 'always', '--verify', sigFile, changedFile]);
      expect(bad.status).toBe(1);
      expect(bad.stdout).toContain(`[GNUPG:] BADSIG ${fpr.slice(24)}`);

      if (spec !== 'EC_P256K') {
        // sq 0.27 over Nettle (no secp256k1 there: gpg and OpenPGP.js are its peers).
        const sqGood = run('sq', ['verify', '--signer-cert', certFile, '--detached', sigFile, file]);
        expect(sqGood.status, sqGood.stderr).toBe(0);
        expect(sqGood.stderr).toMatch(/1 good signature/);
        const sqBad = run('sq', ['verify', '--signer-cert', certFile, '--detached', sigFile, changedFile]);
        expect(sqBad.status).not.toBe(0);
        expect(sqBad.stderr).not.toMatch(/1 good signature/);
      }

      const config = { ...openpgp.config, rejectCurves: new Set<OpenPgp.enums.curve>() };
      const pgpKey = await openpgp.readKey({ armoredKey: new TextDecoder().decode(cert), config });
      const signature = await openpgp.readSignature({ armoredSignature: new TextDecoder().decode(sig) });
      const verified = async (bytes: Uint8Array) =>
        (await openpgp.verify({ message: await openpgp.createMessage({ binary: bytes }), signature, verificationKeys: pgpKey, format: 'binary', config })).signatures[0]!.verified;
      await expect(verified(MESSAGE)).resolves.toBe(true);
      await expect(verified(CHANGED)).rejects.toThrow(/digest did not match|signature/i);
    });
  }

  it('signing at once keeps its layout: issuer fingerprint hashed, one SHA-256, the same Digest as begin', async () => {
    const key = await keyOf('EC_P256');
    const time = new Date(Math.floor(key.created.getTime() / 1000) * 1000 + 120_000);
    const prepared = prepareOver('openpgp', key, { time });
    expect(prepared).toMatchObject({ Layout: 'issuer-hashed', Time: time.getTime() / 1000, Fingerprint: openpgpFingerprint(key) });
    expect(Object.keys(prepared).sort()).toEqual(['Fingerprint', 'Layout', 'Sha256', 'Time']);
    expect(fileSha256Of('openpgp', prepared)).toBeUndefined();
    expect(signatureFormat('openpgp').complete(key, { time }, prepared).toSign().digest).toEqual(directDigest('openpgp', key, { time }));
    const sig = await station('openpgp', key, { time }, prepared);
    expect(subpacketTypes(sig)).toEqual({ hashed: [SUBPACKET.creationTime, SUBPACKET.issuerFingerprint], unhashed: [SUBPACKET.issuer] });
    const cert = await completeSignature(signer(), key, 'openpgp', beginCertificate(key, USER_ID));
    expect(ownVerify('openpgp', sig, MESSAGE, { certificate: cert })).toMatchObject({ valid: true });
  });

  it('refusals: another algorithm, key, time or layout; SM2; malformed members', async () => {
    const rsa = await keyOf('RSA_2048');
    const p256 = await keyOf('EC_P256');
    const other = await keyOf('EC_P256', true);
    const time = new Date(Math.floor(Math.max(rsa.created.getTime(), other.created.getTime()) / 1000) * 1000 + 60_000);
    const rsaOnly = prepareOver('openpgp', { spec: 'RSA_2048' }, { time });
    // The spec known online changes nothing: the station adds the hashed part for its key's algorithm.
    expect(rsaOnly).toEqual(prepareOver('openpgp', {}, { time }));
    const known = prepareOver('openpgp', p256, { time });
    expect(completeCode('openpgp', other, { time }, known)).toMatch(/^Request\.Mismatch: .*hashed for key [0-9A-F]{40}/);
    expect(completeCode('openpgp', p256, { time: new Date(time.getTime() + 1000) }, known)).toMatch(/^Request\.Mismatch: .*dated/);
    const early = prepareOver('openpgp', {}, { time: new Date(0) });
    expect(completeCode('openpgp', p256, {}, early)).toMatch(/^Request\.Mismatch: .*before this key version was created/);
    expect(completeCode('openpgp', await keyOf('EC_SM2'), {}, rsaOnly)).toMatch(/^Format\.UnsupportedKeySpec: /);
    expect(codeOf(() => signatureFormat('openpgp').prepare({ spec: 'EC_SM2' }, {}))).toMatch(/^Format\.UnsupportedKeySpec: /);
    expect(completeCode('openpgp', p256, {}, { ...known, Layout: 'other' })).toMatch(/^Request\.Malformed: .*Layout/);
    expect(completeCode('openpgp', p256, {}, { Layout: 'issuer-unhashed-midstate', Midstate: known.Sha256! })).toMatch(/^Request\.Malformed: .*Time is missing/);
    expect(completeCode('openpgp', p256, {}, { ...known, Time: -5 })).toMatch(/^Request\.Malformed: .*Time is not a whole number/);
    expect(completeCode('openpgp', p256, {}, { Layout: 'issuer-unhashed-midstate', Time: time.getTime() / 1000 })).toMatch(/^Request\.Malformed: .*needs Midstate, Tail and Length/);
    expect(completeCode('openpgp', p256, {}, { ...known, Midstate: known.Sha256! })).toMatch(/^Request\.Malformed: .*has no Midstate/);
    const request = prepareOver('openpgp', {}, { time });
    expect(completeCode('openpgp', p256, { time }, { ...request, Length: (request.Length as number) + 1 })).toMatch(/^Request\.Malformed: .*Tail is \d+ bytes; after/);
    expect(codeOf(() => signatureFormat('openpgp').fileSha256({ ...request, Length: (request.Length as number) + 1 }))).toMatch(/^Request\.Malformed: .*Tail/);
    expect(completeCode('openpgp', p256, { time }, { ...request, Midstate: Buffer.alloc(31).toString('base64') })).toMatch(/^Request\.Malformed: .*Midstate is 31 bytes/);
    expect(completeCode('openpgp', p256, { time }, { ...request, Sha256: known.Sha256! })).toMatch(/^Request\.Malformed: .*has no Fingerprint or Sha256/);
    expect(completeCode('openpgp', p256, {}, { ...request, Layout: 'issuer-unhashed' })).toMatch(/^Request\.Malformed: .*Layout/);
  });
});

describe('jws: {Sha256, Alg, Kid} of a signing input whose header names the key version', () => {
  const cases: { spec: KeySpec; alg: string; algorithm?: SigningAlgorithm }[] = [
    { spec: 'RSA_2048', alg: 'RS256' },
    { spec: 'RSA_2048', alg: 'PS256', algorithm: 'RSA_PSS_SHA_256' },
    { spec: 'EC_P256', alg: 'ES256' },
    { spec: 'EC_P256K', alg: 'ES256K' },
  ];
  for (const { spec, alg, algorithm } of cases) {
    it(`${alg} (${spec}): a detached token jose and verify() accept; attachJwsPayload makes the attached one; a changed byte fails`, async () => {
      const key = await keyOf(spec);
      const options = { detached: true, ...(algorithm ? { algorithm } : {}) };
      const prepared = prepareOver('jws', { spec, keyVersionId: key.keyVersionId }, options);
      expect(prepared).toMatchObject({ Alg: alg, Kid: key.keyVersionId });
      expect(Object.keys(prepared).sort()).toEqual(['Alg', 'Kid', 'Sha256']);
      // The header comes first in the signing input: no SHA-256 of the file can be derived.
      expect(fileSha256Of('jws', prepared)).toBeUndefined();
      // The public key instead of the spec prepares the same.
      expect(prepareOver('jws', { spki: key.spki, keyVersionId: key.keyVersionId }, options)).toEqual(prepared);
      const token = await station('jws', key, options, prepared);
      const [h, p, s] = new TextDecoder().decode(token).split('.') as [string, string, string];
      expect(p).toBe('');
      expect(JSON.parse(Buffer.from(h, 'base64url').toString('utf8'))).toEqual({ alg, kid: key.keyVersionId });
      const material = { publicKey: new TextEncoder().encode(pemOf(key)) };
      expect(ownVerify('jws', token, MESSAGE, material)).toMatchObject({ valid: true, signer: key.keyVersionId });
      expect(ownVerify('jws', token, CHANGED, material)).toMatchObject({ valid: false });

      const publicKey = createPublicKey(pemOf(key));
      const flat = await flattenedVerify({ protected: h, payload: Buffer.from(MESSAGE).toString('base64url'), signature: s }, publicKey, { algorithms: [alg] });
      expect(flat.protectedHeader).toEqual({ alg, kid: key.keyVersionId });

      const attached = attachJwsPayload(token, MESSAGE);
      expect(ownVerify('jws', attached, new Uint8Array(0), { ...material, withoutMessage: true })).toMatchObject({ valid: true });
      const verified = await compactVerify(new TextDecoder().decode(attached), publicKey, { algorithms: [alg] });
      expect(Buffer.from(verified.payload).equals(Buffer.from(MESSAGE))).toBe(true);
      const tampered = attachJwsPayload(token, CHANGED);
      expect(ownVerify('jws', tampered, new Uint8Array(0), { ...material, withoutMessage: true })).toMatchObject({ valid: false });
      await expect(compactVerify(new TextDecoder().decode(tampered), publicKey, { algorithms: [alg] })).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });

      // Signing at once, detached, signs the same Digest.
      expect(signatureFormat('jws').complete(key, options, prepared).toSign().digest).toEqual(directDigest('jws', key, options));
    });
  }

  it('refusals: no spec or version (Request.NeedsPublicKey), another kid or alg (Request.Mismatch), SM2, attaching twice, a payload too large', async () => {
    const p256 = await keyOf('EC_P256');
    const other = await keyOf('EC_P256', true);
    const rsa = await keyOf('RSA_2048');
    expect(codeOf(() => signatureFormat('jws').prepare({}, { detached: true }))).toMatch(/^Request\.NeedsPublicKey: .*--public-key and --version/);
    expect(codeOf(() => signatureFormat('jws').prepare({ spec: 'EC_P256' }, { detached: true }))).toMatch(/^Request\.NeedsPublicKey: /);
    expect(codeOf(() => signatureFormat('jws').prepare({ keyVersionId: p256.keyVersionId }, { detached: true }))).toMatch(/^Request\.NeedsPublicKey: /);
    expect(codeOf(() => signatureFormat('jws').prepare({ spec: 'EC_SM2', keyVersionId: p256.keyVersionId }, { detached: true }))).toMatch(/^Format\.UnsupportedKeySpec: /);
    const prepared = prepareOver('jws', { spec: 'EC_P256', keyVersionId: p256.keyVersionId }, { detached: true });
    expect(completeCode('jws', other, { detached: true }, prepared)).toMatch(/^Request\.Mismatch: .*kid/);
    const pss = prepareOver('jws', { spec: 'RSA_2048', keyVersionId: rsa.keyVersionId }, { detached: true, algorithm: 'RSA_PSS_SHA_256' });
    expect(completeCode('jws', rsa, { detached: true }, pss)).toMatch(/^Request\.Mismatch: .*alg PS256/);
    expect(completeCode('jws', await keyOf('EC_SM2'), { detached: true }, prepared)).toMatch(/^Format\.UnsupportedKeySpec: /);
    expect(completeCode('jws', p256, { detached: true }, { ...prepared, Alg: 'none' })).toMatch(/^Request\.Malformed: .*Alg/);
    expect(completeCode('jws', p256, { detached: true }, { Alg: 'ES256', Kid: p256.keyVersionId })).toMatch(/^Request\.Malformed: .*Sha256 is missing/);
    expect(completeCode('jws', p256, { detached: true }, { ...prepared, Payload: 'AAAA' })).toMatch(/^Request\.Malformed: .*Payload/);

    const token = await station('jws', p256, { detached: true }, prepared);
    const attached = attachJwsPayload(token, MESSAGE);
    expect(codeOf(() => attachJwsPayload(attached, MESSAGE))).toMatch(/^Format\.Malformed: .*already carries a payload/);
    expect(codeOf(() => attachJwsPayload(token, new Uint8Array(MAX_ATTACHED_PAYLOAD + 1)))).toMatch(/^InvalidParameter: .*--detached/);
    expect(codeOf(() => attachJwsPayload(new TextEncoder().encode('not a token'), MESSAGE))).toMatch(/^Format\.Malformed: /);
  });
});

it('every format refuses a Prepared that is not an object', async () => {
  const key = await keyOf('EC_P256');
  for (const format of ['raw', 'ssh', 'openpgp', 'sigstore', 'jws'] as const) {
    expect(completeCode(format, key, {}, null as unknown as PreparedMessage)).toMatch(/^Request\.Malformed: Prepared \(.+\): is not an object/);
    expect(completeCode(format, key, {}, [] as unknown as PreparedMessage)).toMatch(/^Request\.Malformed: /);
  }
});
