// The station: review lists every reason a request cannot be signed, and signs nothing; approve
// signs each file through the one signing route (AsymmetricSign audited as
// "<host>:request:<id>:<format>") only without a Problem and records ApproveSigningRequest;
// a refused approval and a rejection are recorded with their Code and sign nothing. A csr
// request shows what the certificate will say and is issued by IssueCertificate; openssl
// verifies the chain.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../actions/dispatch.ts';
import { chooseSigningKey } from '../actions/format-signing.ts';
import { signatureFormat } from '../formats/registry.ts';
import { KmsError } from '../contract/errors.ts';
import { useActionVault } from '../../test/support/action-vault.ts';
import { createRequest } from './online.ts';
import { finishRequest } from './finish.ts';
import { encodeRequest, parseRequest } from './request-file.ts';
import { approveRequest, rejectRequest, reviewRequest } from './station.ts';
import { APPROVE_EVENT, REJECT_EVENT, type RequestFormat, type RequestOptions } from '../contract/signing-requests.ts';

const v = useActionVault('airgap-station');
const HOST = 'test';

const chunks = (data: string) => Readable.from([Buffer.from(data)]);

async function request(
  key: string,
  format: RequestFormat,
  options: RequestOptions = {},
  extra: { files?: Record<string, string>; created?: Date; publicKey?: Uint8Array; keyVersionId?: string } = {},
): Promise<{ id: string; bytes: Uint8Array; files: Record<string, string> }> {
  const files = extra.files ?? { 'app.tgz': 'the release\n', 'notes.txt': 'what changed\n' };
  const made = await createRequest({
    key,
    format,
    options,
    ...(extra.publicKey ? { publicKey: extra.publicKey } : {}),
    ...(extra.keyVersionId ? { keyVersionId: extra.keyVersionId } : {}),
    files: Object.entries(files).map(([name, data]) => ({ name, size: Buffer.byteLength(data), chunks: chunks(data) })),
    now: extra.created ?? v.now,
  });
  return { id: made.request.RequestId, bytes: made.bytes, files };
}

type Entry = { action: string; caller: string; code: string; keyId: string | null; keyVersionId: string | null };

/** The audit entries made for request `id`, oldest first (through ListAuditEntries, as any host reads them). */
async function listAudit(params: Record<string, unknown> = {}): Promise<Entry[]> {
  const outcome = await dispatch(v.vault, 'ListAuditEntries', { Limit: 99_999, ...params }, 'test');
  if (!outcome.ok) throw new Error(outcome.error.Message);
  return outcome.body.Entries;
}

async function auditOf(id: string): Promise<Entry[]> {
  return (await listAudit()).filter((e) => e.caller.includes(id));
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KmsError) return error.code;
    throw error;
  }
  return 'no error';
}

describe('reviewRequest', () => {
  it('shows the key, the files and the age, and signs nothing', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY', { Description: 'release key' });
    await v.call('CreateAlias', { KeyId: key.keyId, AliasName: 'alias/station-review' });
    const r = await request('alias/station-review', 'ssh', {}, { created: new Date(v.now.getTime() - 90 * 60_000) });
    const review = await reviewRequest(v.vault, r.bytes, { host: HOST });
    expect(review).toMatchObject({
      RequestId: r.id,
      AgeSeconds: 5400,
      MaxAgeSeconds: 86400,
      Format: 'ssh',
      Key: { Reference: 'alias/station-review', KeyId: key.keyId, KeyVersionId: key.versionId, Newest: true, Aliases: ['alias/station-review'], KeySpec: 'EC_P256', KeyState: 'Enabled', Description: 'release key' },
      Files: [
        { Name: 'app.tgz', Size: 12 },
        { Name: 'notes.txt', Size: 13 },
      ],
      TotalSize: 25,
      Problems: [],
    });
    // The fingerprint ssh-keygen prints for the key.
    const pem = v.file('review.pem');
    writeFileSync(pem, key.pem);
    const pub = execFileSync('ssh-keygen', ['-i', '-m', 'PKCS8', '-f', pem], { encoding: 'utf8' });
    writeFileSync(`${pem}.pub`, pub);
    expect(execFileSync('ssh-keygen', ['-l', '-f', `${pem}.pub`], { encoding: 'utf8' })).toContain(review.Key.FormatFingerprint);
    expect((await auditOf(r.id)).filter((e) => e.action === 'AsymmetricSign')).toEqual([]);
  });

  it('lists each Problem with its Code', async () => {
    const enabled = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const disabled = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    await v.call('DisableKey', { KeyId: disabled.keyId });
    const deleting = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    await v.call('ScheduleKeyDeletion', { KeyId: deleting.keyId, PendingWindowInDays: 7 });
    const encrypting = await v.makeKey('RSA_2048', 'ENCRYPT/DECRYPT');
    const publicOnly = await v.makeKey('EC_P256', 'SIGN/VERIFY', { Origin: 'EXTERNAL_PUBLIC_KEY' });
    await v.call('ImportPublicKeyVersion', { KeyId: publicOnly.keyId, PublicKey: enabled.pem });
    const k1 = await v.makeKey('EC_P256K', 'SIGN/VERIFY');
    const sm2 = await v.makeKey('EC_SM2', 'SIGN/VERIFY');
    const other = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const codes = async (bytes: Uint8Array, maxAgeMs?: number) => (await reviewRequest(v.vault, bytes, { host: HOST, ...(maxAgeMs ? { maxAgeMs } : {}) })).Problems.map((p) => p.Code);
    const hour = 3_600_000;
    expect(await codes((await request(enabled.keyId, 'ssh', {}, { created: new Date(v.now.getTime() - 25 * hour) })).bytes)).toEqual(['Request.Expired']);
    expect(await codes((await request(enabled.keyId, 'ssh', {}, { created: new Date(v.now.getTime() - 2 * hour) })).bytes, hour)).toEqual(['Request.Expired']);
    expect(await codes((await request(enabled.keyId, 'ssh', {}, { created: new Date(v.now.getTime() + 6 * 60_000) })).bytes)).toEqual(['Request.Expired']);
    expect(await codes((await request(enabled.keyId, 'ssh', {}, { created: new Date(v.now.getTime() + 4 * 60_000) })).bytes)).toEqual([]);
    expect(await codes((await request('alias/no-such-key', 'ssh')).bytes)).toEqual(['Forbidden.AliasNotFound']);
    // Said for the operator: no internal Action name, no dispatch RequestId.
    const missing = (await reviewRequest(v.vault, (await request('alias/no-such-key', 'ssh')).bytes, { host: HOST })).Problems[0]!.Message;
    expect(missing).toMatch(/^the key the request names \(alias\/no-such-key\) cannot sign here: .*alias\/no-such-key/);
    expect(missing).not.toMatch(/ListKeyVersions|DescribeKey|RequestId|[A-Z][a-z]+[A-Z][a-zA-Z]+: /);
    expect(await codes((await request('00000000-0000-4000-8000-000000000000', 'ssh')).bytes)).toEqual(['Forbidden.KeyNotFound']);
    expect(await codes((await request(disabled.keyId, 'ssh')).bytes)).toEqual(['Rejected.Disabled']);
    expect(await codes((await request(deleting.keyId, 'ssh')).bytes)).toEqual(['Rejected.PendingDeletion']);
    expect(await codes((await request(encrypting.keyId, 'raw')).bytes)).toEqual(['InvalidParameter']);
    expect(await codes((await request(publicOnly.keyId, 'ssh')).bytes)).toEqual(['Rejected.PublicKeyOnly']);
    expect(await codes((await request(k1.keyId, 'ssh')).bytes)).toEqual(['Format.UnsupportedKeySpec']);
    // raw over SM2 hashes Z_A, which needs the public key: a request made without it cannot be signed by an SM2 key.
    expect(await codes((await request(sm2.keyId, 'raw')).bytes)).toEqual(['Request.NeedsPublicKey']);
    const pinnedOther = await request(enabled.keyId, 'raw', {}, { publicKey: new TextEncoder().encode(other.pem) });
    const pinned = await reviewRequest(v.vault, pinnedOther.bytes, { host: HOST });
    expect([pinned.Problems.map((p) => p.Code), pinned.Key.Pinned]).toEqual([['Request.Mismatch'], false]);
    const right = await reviewRequest(v.vault, (await request(enabled.keyId, 'raw', {}, { publicKey: new TextEncoder().encode(enabled.pem) })).bytes, { host: HOST });
    expect([right.Problems, right.Key.Pinned]).toEqual([[], true]);
    // Nothing was signed for any of them.
    const signs = (await listAudit({ Action: 'AsymmetricSign' })).filter((e) => e.caller.startsWith(`${HOST}:request:`));
    expect(signs).toEqual([]);
  });

  it('a pinned public key picks its version when the request names none', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    v.now = new Date(v.now.getTime() + 60_000);
    await v.call('CreateKeyVersion', { KeyId: key.keyId });
    const review = await reviewRequest(v.vault, (await request(key.keyId, 'ssh', {}, { publicKey: new TextEncoder().encode(key.pem) })).bytes, { host: HOST });
    expect(review.Key).toMatchObject({ KeyVersionId: key.versionId, Pinned: true });
    expect(review.Key.Newest).toBeUndefined();
  });
});

describe('approveRequest and rejectRequest', () => {
  it('signs each file as <host>:request:<id>:<format>, records the approval, and finish accepts the response', async () => {
    const key = await v.makeKey('RSA_2048', 'SIGN/VERIFY');
    for (const format of ['ssh', 'raw', 'sigstore'] as const) {
      const r = await request(key.keyId, format);
      const review = await reviewRequest(v.vault, r.bytes, { host: HOST });
      const { response, bytes } = await approveRequest(v.vault, r.bytes, { host: HOST, reviewedSha256: review.RequestSha256 });
      expect(response).toMatchObject({ RequestId: r.id, RequestSha256: review.RequestSha256, KeyId: key.keyId, KeyVersionId: key.versionId, KeySpec: 'RSA_2048' });
      // Everything done for the request names it; the reads that chose the key aside, two signatures then the approval.
      const entries = await auditOf(r.id);
      expect(entries.every((e) => e.caller === `${HOST}:request:${r.id}` || e.caller === `${HOST}:request:${r.id}:${format}`)).toBe(true);
      const reads = ['ListKeyVersions', 'DescribeKey', 'GetPublicKey', 'GetPublicKeyBundle'];
      expect(entries.filter((e) => !reads.includes(e.action)).map((e) => [e.action, e.caller, e.code, e.keyVersionId])).toEqual([
        ['AsymmetricSign', `${HOST}:request:${r.id}:${format}`, 'OK', key.versionId],
        ['AsymmetricSign', `${HOST}:request:${r.id}:${format}`, 'OK', key.versionId],
        [APPROVE_EVENT, `${HOST}:request:${r.id}`, 'OK', key.versionId],
      ]);
      const finished = await finishRequest({ request: r.bytes, response: bytes, openFile: (name) => Promise.resolve(chunks(r.files[name]!)) });
      expect(finished.outputs.map((o) => o.FileName)).toEqual(format === 'sigstore' ? ['app.tgz.sigstore.json', 'notes.txt.sigstore.json'] : ['app.tgz.sig', 'notes.txt.sig']);
      if (format === 'raw') {
        // openssl, a verifier nobody here wrote, checks the raw signature with the published PEM.
        const pem = v.file('raw.pem');
        writeFileSync(pem, finished.publicMaterial[0]!.Bytes);
        writeFileSync(v.file('app.tgz'), r.files['app.tgz']!);
        const data = v.file('app.tgz');
        writeFileSync(data, r.files['app.tgz']!);
        writeFileSync(`${data}.sig`, finished.outputs[0]!.Bytes);
        expect(execFileSync('openssl', ['dgst', '-sha256', '-verify', pem, '-signature', `${data}.sig`, data], { encoding: 'utf8' })).toMatch(/Verified OK/);
      }
    }
  });

  it('a Problem refuses the approval: recorded with its Code, nothing signed', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    await v.call('DisableKey', { KeyId: key.keyId });
    const r = await request(key.keyId, 'ssh');
    expect(await refusal(approveRequest(v.vault, r.bytes, { host: HOST }))).toBe('Rejected.Disabled');
    const expired = await request(key.keyId, 'ssh', {}, { created: new Date(v.now.getTime() - 48 * 3_600_000) });
    expect(await refusal(approveRequest(v.vault, expired.bytes, { host: HOST }))).toBe('Request.Expired');
    for (const id of [r.id, expired.id]) {
      const entries = await auditOf(id);
      expect(entries.filter((e) => e.action === 'AsymmetricSign')).toEqual([]);
      expect(entries.filter((e) => e.action === APPROVE_EVENT).map((e) => [e.code, e.keyId])).toEqual([[id === r.id ? 'Rejected.Disabled' : 'Request.Expired', key.keyId]]);
    }
  });

  it('signs only what was reviewed: another RequestSha256 is Request.Mismatch', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const r = await request(key.keyId, 'ssh');
    expect(await refusal(approveRequest(v.vault, r.bytes, { host: HOST, reviewedSha256: 'f'.repeat(64) }))).toBe('Request.Mismatch');
    expect((await auditOf(r.id)).filter((e) => e.action === 'AsymmetricSign')).toEqual([]);
  });

  it('signs only with the key version reviewed: a version created since is Request.Mismatch, nothing signed', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const r = await request(key.keyId, 'ssh');
    const review = await reviewRequest(v.vault, r.bytes, { host: HOST });
    const shown = review.Key.KeyVersionId!;
    expect(shown).toMatch(/^[0-9a-f-]{36}$/);
    await v.call('CreateKeyVersion', { KeyId: key.keyId });
    const reviewed = { host: HOST, reviewedSha256: review.RequestSha256 };
    const error = await approveRequest(v.vault, r.bytes, { ...reviewed, reviewedKeyVersionId: review.Key.KeyVersionId! }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KmsError);
    expect((error as KmsError).code).toBe('Request.Mismatch');
    expect((error as KmsError).message).toMatch(new RegExp(`is not the one reviewed \\(${shown}\\)`));
    const entries = await auditOf(r.id);
    expect(entries.filter((e) => e.action === 'AsymmetricSign')).toEqual([]);
    expect(entries.filter((e) => e.action === APPROVE_EVENT).map((e) => e.code)).toEqual(['Request.Mismatch']);
    // Reviewed again, the new version is shown, and approving with it signs with it.
    const again = await reviewRequest(v.vault, r.bytes, { host: HOST });
    expect(again.Key.KeyVersionId).not.toBe(shown);
    const { response } = await approveRequest(v.vault, r.bytes, { ...reviewed, reviewedKeyVersionId: again.Key.KeyVersionId! });
    expect(response.KeyVersionId).toBe(again.Key.KeyVersionId);
  });

  it('reject records RejectSigningRequest (Request.Rejected) and signs nothing', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const r = await request(key.keyId, 'ssh');
    const review = await rejectRequest(v.vault, r.bytes, { host: HOST });
    expect(review.RequestId).toBe(r.id);
    expect((await auditOf(r.id)).filter((e) => e.action === REJECT_EVENT || e.action === 'AsymmetricSign').map((e) => [e.action, e.code, e.keyId, e.keyVersionId])).toEqual([
      [REJECT_EVENT, 'Request.Rejected', key.keyId, key.versionId],
    ]);
  });

  it('lists earlier decisions on the RequestId from any host: approved before may be approved again, rejected before is Request.Rejected', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const r = await request(key.keyId, 'ssh');
    const first = await reviewRequest(v.vault, r.bytes, { host: HOST });
    expect(first.Decisions).toEqual([]);
    // A refused approval is no decision.
    await approveRequest(v.vault, r.bytes, { host: HOST, reviewedSha256: 'f'.repeat(64) }).catch(() => undefined);
    expect((await reviewRequest(v.vault, r.bytes, { host: HOST })).Decisions).toEqual([]);
    await approveRequest(v.vault, r.bytes, { host: 'cli' });
    const second = await reviewRequest(v.vault, r.bytes, { host: HOST });
    expect(second.Decisions).toEqual([{ Event: APPROVE_EVENT, Time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), Caller: `cli:request:${r.id}` }]);
    expect(second.Problems).toEqual([]);
    // Its response may have been lost: approved again, signed again.
    await approveRequest(v.vault, r.bytes, { host: HOST, reviewedSha256: second.RequestSha256 });
    expect((await auditOf(r.id)).filter((e) => e.action === 'AsymmetricSign')).toHaveLength(4);
    expect((await reviewRequest(v.vault, r.bytes, { host: HOST })).Decisions.map((d) => d.Caller)).toEqual([`cli:request:${r.id}`, `${HOST}:request:${r.id}`]);

    // Rejected (by the app), then approved by the CLI: refused, nothing signed.
    const other = await request(key.keyId, 'ssh');
    await rejectRequest(v.vault, other.bytes, { host: 'app' });
    const after = await reviewRequest(v.vault, other.bytes, { host: 'cli' });
    expect(after.Decisions.map((d) => [d.Event, d.Caller])).toEqual([[REJECT_EVENT, `app:request:${other.id}`]]);
    expect(after.Problems.map((p) => p.Code)).toEqual(['Request.Rejected']);
    expect(after.Problems[0]!.Message).toMatch(/^this request was rejected at \d{4}-.*\(app:request:/);
    expect(await refusal(approveRequest(v.vault, other.bytes, { host: 'cli' }))).toBe('Request.Rejected');
    expect((await auditOf(other.id)).filter((e) => e.action === 'AsymmetricSign')).toEqual([]);
    // Another request's decisions are not this one's.
    expect((await reviewRequest(v.vault, (await request(key.keyId, 'ssh')).bytes, { host: HOST })).Decisions).toEqual([]);
  });
});

describe('the preparation is bound to the SHA-256 shown', () => {
  const BENIGN = { 'notes.txt': 'what changed\n', 'release.tgz': 'benign release\n' };
  const EVIL = { 'notes.txt': 'what changed\n', 'release.tgz': 'EVIL payload\n' };

  /** The benign request with release.tgz's Prepared taken from a request for another file (Name, Size, Sha256 kept), re-encoded. */
  async function swapped(key: string, format: RequestFormat, extra: { publicKey?: Uint8Array; keyVersionId?: string } = {}) {
    const options: RequestOptions = format === 'openpgp' ? { UserId: 'Release <release@deskkms.example>' } : {};
    const benign = await request(key, format, options, { ...extra, files: BENIGN });
    const evil = await request(key, format, options, { ...extra, files: EVIL });
    const parsed = parseRequest(benign.bytes);
    const evilFile = parseRequest(evil.bytes).Files[1]!;
    expect(evilFile.Prepared).not.toEqual(parsed.Files[1]!.Prepared);
    const bytes = encodeRequest({ ...parsed, Files: [parsed.Files[0]!, { ...parsed.Files[1]!, Prepared: evilFile.Prepared! }] });
    return { benign, bytes, id: parsed.RequestId, shown: parsed.Files[1]!.Sha256 };
  }

  for (const format of ['raw', 'sigstore', 'ssh', 'openpgp'] as const) {
    it(`${format}: a Prepared swapped from another file is Request.Mismatch naming the file; nothing signed; the honest request is Bound and finishes`, async () => {
      const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
      const { benign, bytes, id, shown } = await swapped(key.keyId, format);
      expect(shown).toBe(createHash('sha256').update(BENIGN['release.tgz']).digest('hex'));
      const review = await reviewRequest(v.vault, bytes, { host: HOST });
      expect(review.Files.map((f) => [f.Name, f.Sha256, f.Bound])).toEqual([
        ['notes.txt', createHash('sha256').update(BENIGN['notes.txt']).digest('hex'), true],
        ['release.tgz', shown, false],
      ]);
      expect(review.Problems).toHaveLength(1);
      expect(review.Problems[0]!.Code).toBe('Request.Mismatch');
      expect(review.Problems[0]!.Message).toContain('the digest the station would sign is not the SHA-256 shown for release.tgz');
      expect(await refusal(approveRequest(v.vault, bytes, { host: HOST, reviewedSha256: review.RequestSha256 }))).toBe('Request.Mismatch');
      const entries = await auditOf(id);
      expect(entries.filter((e) => e.action === 'AsymmetricSign')).toEqual([]);
      expect(entries.filter((e) => e.action === APPROVE_EVENT).map((e) => e.code)).toEqual(['Request.Mismatch']);

      // The request as made: every file Bound, no Problem; signed, and finish verifies each signature over the files.
      const honest = await reviewRequest(v.vault, benign.bytes, { host: HOST });
      expect(honest.Problems).toEqual([]);
      expect(honest.Files.map((f) => f.Bound)).toEqual([true, true]);
      const { bytes: response } = await approveRequest(v.vault, benign.bytes, { host: HOST, reviewedSha256: honest.RequestSha256 });
      const finished = await finishRequest({ request: benign.bytes, response, openFile: (name) => Promise.resolve(chunks(benign.files[name]!)) });
      expect(finished.outputs.map((o) => o.Name)).toEqual(['notes.txt', 'release.tgz']);
    });
  }

  it('an unbound layout only signing at once makes (ssh {Sha512}, openpgp issuer-hashed) is refused in a request', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const info = await chooseSigningKey({ vault: v.vault, caller: 'test' }, key.keyId, key.versionId);
    for (const format of ['ssh', 'openpgp'] as const) {
      const benign = await request(key.keyId, format, {}, { files: BENIGN });
      const parsed = parseRequest(benign.bytes);
      const direct = signatureFormat(format).prepare(info, { time: new Date(parsed.Created) });
      direct.update(new TextEncoder().encode(EVIL['release.tgz']));
      const prepared = direct.prepared();
      expect(Object.keys(prepared)).toContain(format === 'ssh' ? 'Sha512' : 'Fingerprint');
      const bytes = encodeRequest({ ...parsed, Files: [parsed.Files[0]!, { ...parsed.Files[1]!, Prepared: prepared }] });
      const review = await reviewRequest(v.vault, bytes, { host: HOST });
      expect(review.Files.map((f) => f.Bound)).toEqual([true, false]);
      expect(review.Problems.map((p) => [p.Code, p.Message.includes('does not let the station check it is of the SHA-256 shown for release.tgz')])).toEqual([['Request.Mismatch', true]]);
      expect(await refusal(approveRequest(v.vault, bytes, { host: HOST }))).toBe('Request.Mismatch');
      expect((await auditOf(parsed.RequestId)).filter((e) => e.action === 'AsymmetricSign')).toEqual([]);
    }
  });

  it('jws: the station cannot bind it (the header comes first): every file is reported Bound false', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const { benign, bytes } = await swapped(key.keyId, 'jws', { publicKey: new TextEncoder().encode(key.pem), keyVersionId: key.versionId });
    const honest = await reviewRequest(v.vault, benign.bytes, { host: HOST });
    expect(honest.Problems).toEqual([]);
    expect(honest.Files.map((f) => f.Bound)).toEqual([false, false]);
    // A swapped jws preparation is not detectable here: that is what Bound false tells the operator.
    const review = await reviewRequest(v.vault, bytes, { host: HOST });
    expect(review.Files.map((f) => f.Bound)).toEqual([false, false]);
    expect(review.Problems).toEqual([]);
  });

  it('raw over SM2 (SM3 with Z_A) is Bound false; a malformed preparation is not Bound and is a Problem', async () => {
    const sm2 = await v.makeKey('EC_SM2', 'SIGN/VERIFY');
    const r = await request(sm2.keyId, 'raw', {}, { publicKey: new TextEncoder().encode(sm2.pem) });
    const review = await reviewRequest(v.vault, r.bytes, { host: HOST });
    expect(review.Problems).toEqual([]);
    expect(review.Files.map((f) => f.Bound)).toEqual([false, false]);
    const p256 = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const parsed = parseRequest((await request(p256.keyId, 'openpgp')).bytes);
    const broken = encodeRequest({ ...parsed, Files: parsed.Files.map((f) => ({ ...f, Prepared: { ...f.Prepared!, Length: (f.Prepared!.Length as number) + 1 } })) });
    const bad = await reviewRequest(v.vault, broken, { host: HOST });
    expect(bad.Files.map((f) => f.Bound)).toEqual([false, false]);
    expect(bad.Problems.map((p) => p.Code)).toEqual(['Request.Malformed']);
  });
});

describe('csr requests: the station as an offline CA', () => {
  it('shows what the certificate will say; approval issues it; openssl verifies the chain', async () => {
    const ca = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    await v.call('CreateSelfSignedCertificate', { KeyId: ca.keyId, KeyVersionId: ca.versionId, Subject: 'CN=Offline Root,O=Example' });
    const leafKey = v.file('host.key');
    const csrPath = v.file('host.csr');
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', leafKey]);
    execFileSync('openssl', [
      'req', '-new', '-key', leafKey, '-subj', '/CN=host.example.org/O=Example', '-out', csrPath,
      '-addext', 'subjectAltName=DNS:host.example.org,IP:192.0.2.7',
      '-addext', 'keyUsage=digitalSignature,keyCertSign',
      '-addext', 'extendedKeyUsage=serverAuth',
    ]);
    const csr = readFileSync(csrPath, 'utf8');
    const r = await request(ca.keyId, 'csr', { ValidityDays: 30 }, { files: { 'host.csr': csr } });
    const review = await reviewRequest(v.vault, r.bytes, { host: HOST });
    expect(review.Problems).toEqual([]);
    expect(review.Csr).toEqual({
      // As openssl prints it in RFC 2253 (4514) order.
      Subject: execFileSync('openssl', ['req', '-in', csrPath, '-noout', '-subject', '-nameopt', 'RFC2253'], { encoding: 'utf8' }).replace(/^subject=/, '').trim(),
      SubjectAltNames: ['DNS:host.example.org', 'IP:192.0.2.7'],
      KeyUsages: ['digitalSignature'], // keyCertSign is dropped from a leaf, as IssueCertificate does
      ExtendedKeyUsages: ['serverAuth'],
      PublicKeySpec: 'EC_P256',
      ValidityDays: 30,
      IsCa: false,
    });
    // What review reads is what IssueCertificate reads: the CSR relabelled NEW, or with text around
    // it (the Sha256 made to match), is refused at review, not first at approve.
    const parsed = parseRequest(r.bytes);
    for (const changed of [parsed.Csr!.replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST'), `Subject: CN=host\n${parsed.Csr!}`]) {
      // (encodeRequest refuses such a Csr: the JSON is edited as a hostile online machine would.)
      const json = JSON.parse(new TextDecoder().decode(r.bytes)) as { Csr: string; Files: { Sha256: string }[] };
      json.Csr = changed;
      json.Files[0]!.Sha256 = createHash('sha256').update(changed).digest('hex');
      const bytes = new TextEncoder().encode(`${JSON.stringify(json, null, 2)}\n`);
      const error = await reviewRequest(v.vault, bytes, { host: HOST }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KmsError);
      expect((error as KmsError).code).toBe('Request.Malformed');
      expect((error as KmsError).message).toMatch(/Csr: /);
    }
    const { bytes } = await approveRequest(v.vault, r.bytes, { host: HOST });
    expect((await auditOf(r.id)).filter((e) => e.action === 'IssueCertificate').map((e) => [e.caller, e.code])).toEqual([[`${HOST}:request:${r.id}:csr`, 'OK']]);
    const finished = await finishRequest({ request: r.bytes, response: bytes, openFile: () => Promise.resolve(chunks(csr)) });
    expect(finished.outputs.map((o) => o.FileName)).toEqual(['host.crt']);
    const crt = v.file('host.crt');
    writeFileSync(crt, finished.outputs[0]!.Bytes);
    const root = v.file('root.pem');
    writeFileSync(root, (await v.call('GetCertificates', { KeyId: ca.keyId, KeyVersionId: ca.versionId })).Certificates[0].Pem as string);
    expect(execFileSync('openssl', ['verify', '-CAfile', root, crt], { encoding: 'utf8' })).toContain(': OK');
    const text = execFileSync('openssl', ['x509', '-in', crt, '-noout', '-text'], { encoding: 'utf8' });
    expect(text).toMatch(/DNS:host\.example\.org, IP Address:192\.0\.2\.7/);
    expect(text).toMatch(/TLS Web Server Authentication/);
    // A CA key without its certificate cannot issue: a Problem, before anything is signed.
    const bare = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const noCert = await request(bare.keyId, 'csr', {}, { files: { 'host.csr': csr } });
    expect((await reviewRequest(v.vault, noCert.bytes, { host: HOST })).Problems.map((p) => p.Code)).toEqual(['InvalidParameter']);
    // A CSR whose signature no longer verifies is shown as malformed.
    const body = csr.split('\n');
    body[3] = body[3]!.replace(/[A-Z]/, (c) => (c === 'A' ? 'B' : 'A'));
    const damaged = await request(ca.keyId, 'csr', {}, { files: { 'host.csr': body.join('\n') } });
    expect((await reviewRequest(v.vault, damaged.bytes, { host: HOST })).Problems.map((p) => p.Code)).toContain('Request.Malformed');
  });
});
