// finish: a response is accepted only when it answers this request (its id and these request
// bytes), names the request's files in order with their SHA-256s, the files on disk are still
// those, each signature verifies with the response's key by the format's own verifier, and that
// key is the pinned one. Each refusal is Request.Mismatch naming what differs, and nothing is
// returned to write. jws gets its payload back (unless Detached); openpgp checks the certificate
// is the signing key's.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { KmsError } from '../contract/errors.ts';
import { signatureFormat } from '../formats/registry.ts';
import { useActionVault } from '../../test/support/action-vault.ts';
import { finishRequest, type FinishInput } from './finish.ts';
import { createRequest } from './online.ts';
import { encodeResponse, parseRequest, parseResponse, sha256Hex } from './request-file.ts';
import { approveRequest } from './station.ts';
import type { RequestFormat, RequestOptions, SigningResponse } from '../contract/signing-requests.ts';

const v = useActionVault('airgap-finish');
const FILES: Record<string, string> = { 'app.tgz': 'the release tarball\n'.repeat(50), 'SHA256SUMS': 'sums\n' };

const open = (files: Record<string, string>) => (name: string) => Promise.resolve(Readable.from([Buffer.from(files[name] ?? '')]));

async function roundTrip(key: { keyId: string; versionId: string; pem: string }, format: RequestFormat, options: RequestOptions = {}, pin = false) {
  const made = await createRequest({
    key: key.keyId,
    format,
    options,
    ...(pin ? { publicKey: new TextEncoder().encode(key.pem), keyVersionId: key.versionId } : {}),
    files: Object.entries(FILES).map(([name, data]) => ({ name, size: data.length, chunks: Readable.from([Buffer.from(data)]) })),
    now: v.now,
  });
  const approved = await approveRequest(v.vault, made.bytes, { host: 'test' });
  return { request: made.bytes, response: approved.bytes, parsed: approved.response };
}

async function mismatch(input: FinishInput): Promise<string> {
  try {
    await finishRequest(input);
  } catch (error) {
    if (error instanceof KmsError) return `${error.code}: ${error.message}`;
    throw error;
  }
  return 'no error';
}

const edit = (response: Uint8Array, change: (r: SigningResponse) => SigningResponse) => encodeResponse(change(parseResponse(response)));

describe('finishRequest', () => {
  it('ssh, raw, sigstore: the ecosystem files and the public material, each signature verified again by the format', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    await v.call('CreateAlias', { KeyId: key.keyId, AliasName: 'alias/finish-release' });
    for (const [format, pub] of [['ssh', 'finish-release.pub'], ['raw', 'finish-release.pem'], ['sigstore', 'finish-release.pem']] as const) {
      const made = await createRequest({
        key: 'alias/finish-release',
        format,
        options: {},
        files: Object.entries(FILES).map(([name, data]) => ({ name, size: data.length, chunks: Readable.from([Buffer.from(data)]) })),
        now: v.now,
      });
      const { bytes } = await approveRequest(v.vault, made.bytes, { host: 'test' });
      const result = await finishRequest({ request: made.bytes, response: bytes, openFile: open(FILES) });
      expect(result).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.versionId });
      expect(result.publicMaterial.map((m) => m.FileName)).toEqual([pub]);
      expect(result.outputs.map((o) => [o.Name, o.FileName])).toEqual(Object.keys(FILES).map((n) => [n, `${n}${signatureFormat(format).extension}`]));
      // Each output verifies by the format's own verifier with the published material.
      for (const output of result.outputs) {
        const pending = signatureFormat(format).verify(output.Bytes, { publicKey: result.publicMaterial[0]!.Bytes });
        pending.update(Buffer.from(FILES[output.Name]!));
        expect(pending.result()).toMatchObject({ valid: true });
      }
    }
  });

  it('jws: the payload is attached unless the request said Detached; the JWK is published', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const attached = await roundTrip(key, 'jws', {}, true);
    const result = await finishRequest({ request: attached.request, response: attached.response, openFile: open(FILES) });
    const [header, payload, signature] = new TextDecoder().decode(result.outputs[0]!.Bytes).split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'ES256', kid: key.versionId });
    expect(Buffer.from(payload!, 'base64url').toString()).toBe(FILES['app.tgz']);
    expect(signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(result.publicMaterial.map((m) => m.FileName)).toEqual([`${key.keyId}.jwk`]);
    const pending = signatureFormat('jws').verify(result.outputs[0]!.Bytes, { publicKey: result.publicMaterial[0]!.Bytes, withoutMessage: true });
    expect(pending.result()).toMatchObject({ valid: true });
    const detached = await roundTrip(key, 'jws', { Detached: true }, true);
    const token = new TextDecoder().decode((await finishRequest({ request: detached.request, response: detached.response, openFile: open(FILES) })).outputs[0]!.Bytes);
    expect(token.split('.')[1]).toBe('');
  });

  it('openpgp: with a UserId the certificate travels and must be the signing key\'s; without one finish needs --certificate', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const withCert = await roundTrip(key, 'openpgp', { UserId: 'Releases <releases@example.org>' });
    const result = await finishRequest({ request: withCert.request, response: withCert.response, openFile: open(FILES) });
    expect(result.outputs.map((o) => o.FileName)).toEqual(['app.tgz.asc', 'SHA256SUMS.asc']);
    expect(result.Signer).toMatch(/^Releases <releases@example\.org> \([0-9A-F]{40}\)$/);
    const certificate = result.publicMaterial[0]!.Bytes;
    expect(new TextDecoder().decode(certificate)).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);

    const bare = await roundTrip(key, 'openpgp');
    expect(await mismatch({ request: bare.request, response: bare.response, openFile: open(FILES) })).toMatch(/^MissingParameter: --certificate is required/);
    expect((await finishRequest({ request: bare.request, response: bare.response, openFile: open(FILES), certificate })).outputs).toHaveLength(2);
    // Another key's certificate, carried or given, is refused.
    const other = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const otherCert = (await finishRequest({ ...(await roundTrip(other, 'openpgp', { UserId: 'Other <o@example.org>' })), openFile: open(FILES) })).publicMaterial[0]!.Bytes;
    expect(await mismatch({ request: bare.request, response: bare.response, openFile: open(FILES), certificate: otherCert })).toMatch(/^Request\.Mismatch: the --certificate file is the certificate of key [0-9A-F]{40}, not of the key that signed/);
    const swapped = edit(withCert.response, (r) => ({ ...r, PublicMaterial: { OpenPgpCertificate: new TextDecoder().decode(otherCert) } }));
    expect(await mismatch({ request: withCert.request, response: swapped, openFile: open(FILES) })).toMatch(/^Request\.Mismatch: the response's OpenPgpCertificate is the certificate of key/);
  });

  it('refuses a response that does not answer this request, with Request.Mismatch naming what differs', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const { request, response } = await roundTrip(key, 'ssh', {}, true);
    const other = await roundTrip(key, 'ssh');
    const ok = { request, response, openFile: open(FILES) };
    expect((await finishRequest(ok)).outputs).toHaveLength(2);
    expect(await mismatch({ ...ok, response: other.response })).toMatch(/^Request\.Mismatch: the response answers request .*, not this request/);
    // The request bytes changed after the station read them (a byte of the note).
    const changed = new TextDecoder().decode(request).replace('"Format":"ssh"', '"Format":"ssh" ');
    expect(await mismatch({ ...ok, request: new TextEncoder().encode(changed) })).toMatch(/^Request\.Mismatch: the response answers a request with SHA-256 [0-9a-f]{64}, not these request bytes/);
    // A changed file.
    expect(await mismatch({ ...ok, openFile: open({ ...FILES, SHA256SUMS: 'sums!\n' }) })).toMatch(/^Request\.Mismatch: SHA256SUMS is not the file the request was made for/);
    // A flipped signature byte (inside the SSHSIG blob): verified, not trusted.
    const flipped = edit(response, (r) => {
      const sig = Buffer.from(r.Files[1]!.Signature, 'base64');
      const text = sig.toString('utf8').split('\n');
      text[3] = text[3]!.replace(/[A-Za-z]/, (c) => (c === 'A' ? 'B' : 'A'));
      return { ...r, Files: [r.Files[0]!, { ...r.Files[1]!, Signature: Buffer.from(text.join('\n')).toString('base64') }] };
    });
    expect(await mismatch({ ...ok, response: flipped })).toMatch(/^Request\.Mismatch: (Files\[1\] )?SHA256SUMS: the signature/);
    // The files out of order, or one missing.
    expect(await mismatch({ ...ok, response: edit(response, (r) => ({ ...r, Files: [r.Files[1]!, r.Files[0]!] })) })).toMatch(/^Request\.Mismatch: Files\[0\]: the response names SHA256SUMS where the request has app\.tgz/);
    expect(await mismatch({ ...ok, response: edit(response, (r) => ({ ...r, Files: [r.Files[0]!] })) })).toMatch(/^Request\.Mismatch: the response has 1 file\(s\); the request has 2/);
    // Another key than the pinned one, or than the one finish is given.
    const stranger = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const strangerSpki = Buffer.from(stranger.pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64').toString('base64');
    expect(await mismatch({ ...ok, response: edit(response, (r) => ({ ...r, PublicKey: strangerSpki })) })).toMatch(/^Request\.Mismatch: the response was signed by key [0-9a-f]{64} .*not by the key the request pinned/);
    expect(await mismatch({ ...other, openFile: open(FILES), publicKey: new TextEncoder().encode(stranger.pem) })).toMatch(/^Request\.Mismatch: .*not by the --public-key given/);
    // Public material that is not the signing key's.
    expect(await mismatch({ ...ok, response: edit(response, (r) => ({ ...r, PublicMaterial: { SshPublicKey: 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY=' } })) })).toMatch(
      /^Request\.Mismatch: the response's SshPublicKey is not the public key that signed/,
    );
  });

  it('unpinned, it trusts the key the response carries (and says so: Pinned false, the forger\'s SpkiSha256); a pin refuses the forgery', async () => {
    const owner = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const forger = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const real = await roundTrip(owner, 'raw');
    const theirs = await roundTrip(forger, 'raw');
    const spkiOf = (pem: string) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    // Whoever holds the stick answers the request with their own key and signatures, under the owner's KeyId.
    const forged = edit(theirs.response, (r) => ({ ...r, RequestId: parseRequest(real.request).RequestId, RequestSha256: sha256Hex(real.request), KeyId: owner.keyId, KeyVersionId: owner.versionId }));
    const accepted = await finishRequest({ request: real.request, response: forged, openFile: open(FILES) });
    expect(accepted).toMatchObject({ Pinned: false, KeyId: owner.keyId, SpkiSha256: sha256Hex(spkiOf(forger.pem)) });
    expect((await finishRequest({ request: real.request, response: real.response, openFile: open(FILES), publicKey: new TextEncoder().encode(owner.pem) })).Pinned).toBe(true);
    expect(await mismatch({ request: real.request, response: forged, openFile: open(FILES), publicKey: new TextEncoder().encode(owner.pem) })).toMatch(/^Request\.Mismatch: .*not by the --public-key given/);
    // A request that named the key by its ARN gets that key: another KeyId is refused.
    const arn = await createRequest({ key: `acs:kms:cn-hangzhou:123456789012:key/${owner.keyId}`, format: 'raw', options: {}, files: Object.entries(FILES).map(([name, data]) => ({ name, size: data.length, chunks: Readable.from([Buffer.from(data)]) })), now: v.now });
    const byArn = edit(theirs.response, (r) => ({ ...r, RequestId: parseRequest(arn.bytes).RequestId, RequestSha256: sha256Hex(arn.bytes), KeyId: forger.keyId }));
    expect(await mismatch({ request: arn.bytes, response: byArn, openFile: open(FILES) })).toMatch(new RegExp(`^Request\\.Mismatch: the response was signed by key ${forger.keyId}, the request named key ${owner.keyId}`));
  });

  it('refuses a damaged response or request as Request.Malformed', async () => {
    const key = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const { request, response } = await roundTrip(key, 'raw');
    expect(await mismatch({ request, response: response.subarray(0, response.length - 10), openFile: open(FILES) })).toMatch(/^Request\.Malformed: the signing response: is not JSON/);
    expect(await mismatch({ request: response, response, openFile: open(FILES) })).toMatch(/^Request\.Malformed: the signing request: /);
  });
});

describe('finishRequest: csr', () => {
  it('checks the whole chain: the certificate is for the CSR\'s key and signed by the response\'s key, each next one the issuer of the one before', async () => {
    const csrFile = (name: string): string => {
      const out = v.file(`${name}.csr`);
      execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', v.file(`${name}.key`), '-subj', `/CN=${name}.example.org`, '-out', out], { stdio: 'ignore' });
      return readFileSync(out, 'utf8');
    };
    const csrA = csrFile('a');
    const csrB = csrFile('b');
    const ca1 = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    const ca2 = await v.makeKey('EC_P256', 'SIGN/VERIFY');
    for (const ca of [ca1, ca2]) await v.call('CreateSelfSignedCertificate', { KeyId: ca.keyId, KeyVersionId: ca.versionId, Subject: `CN=Root ${ca.keyId}` });
    const trip = async (ca: { keyId: string }, csr: string) => {
      const made = await createRequest({ key: ca.keyId, format: 'csr', options: { ValidityDays: 30 }, files: [{ name: 'host.csr', size: csr.length, chunks: Readable.from([Buffer.from(csr)]) }], now: v.now });
      const approved = await approveRequest(v.vault, made.bytes, { host: 'test' });
      return { request: made.bytes, response: approved.bytes, parsed: approved.response };
    };
    const a1 = await trip(ca1, csrA);
    const a2 = await trip(ca2, csrA);
    const b1 = await trip(ca1, csrB);
    const ok = { request: a1.request, response: a1.response, openFile: open({ 'host.csr': csrA }) };
    const blocks = (text: string | undefined) => text!.match(/-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n/g)!;
    const chain1 = blocks(a1.parsed.PublicMaterial.CertificateChain);
    const chain2 = blocks(a2.parsed.PublicMaterial.CertificateChain);
    expect(chain1.length).toBe(2);

    const good = await finishRequest(ok);
    expect(good.outputs.map((o) => o.FileName)).toEqual(['host.crt']);
    expect(new TextDecoder().decode(good.outputs[0]!.Bytes)).toBe(chain1.join(''));
    // openssl, a peer, agrees: the written leaf verifies against the CA certificate written after it.
    const crt = v.file('host.crt');
    writeFileSync(crt, good.outputs[0]!.Bytes);
    const root = v.file('root.pem');
    writeFileSync(root, chain1[1]!);
    expect(execFileSync('openssl', ['verify', '-CAfile', root, crt], { encoding: 'utf8' })).toContain(': OK');
    // The CSR on disk in another armour (the NEW label, CRLF) is the same CSR.
    expect((await finishRequest({ ...ok, openFile: open({ 'host.csr': csrA.replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST').replace(/\n/g, '\r\n') }) })).outputs.length).toBe(1);

    const withChain = (chain: string, leaf = a1.parsed.Files[0]!.Signature) =>
      edit(a1.response, (r) => ({ ...r, Files: [{ ...r.Files[0]!, Signature: leaf }], PublicMaterial: { ...r.PublicMaterial, CertificateChain: chain } }));
    // A certificate for another key (another CSR's, from the same CA).
    expect(await mismatch({ ...ok, response: withChain(b1.parsed.PublicMaterial.CertificateChain!, b1.parsed.Files[0]!.Signature) })).toMatch(/^Request\.Mismatch: the certificate is not for the CSR's public key/);
    // The right key's certificate, issued by another CA than the response's key.
    expect(await mismatch({ ...ok, response: withChain(a2.parsed.PublicMaterial.CertificateChain!, a2.parsed.Files[0]!.Signature) })).toMatch(/^Request\.Mismatch: the certificate is not signed by the response's CA key/);
    // The chain's tail swapped: another CA's certificate after the leaf; a certificate appended that did not issue the one before.
    expect(await mismatch({ ...ok, response: withChain(chain1[0] + chain2[1]!) })).toMatch(/^Request\.Mismatch: CertificateChain\[1\] is not the certificate of the response's CA key/);
    expect(await mismatch({ ...ok, response: withChain(chain1.join('') + chain2[1]!) })).toMatch(/^Request\.Mismatch: CertificateChain\[1\] is not signed by the key of CertificateChain\[2\]/);
    // Text around the blocks.
    expect(await mismatch({ ...ok, response: withChain(`${chain1.join('')}trailing words\n`) })).toMatch(/^Request\.Mismatch: the response's CertificateChain .*is not readable/);
    // Another CSR on disk.
    expect(await mismatch({ ...ok, openFile: open({ 'host.csr': csrB }) })).toMatch(/^Request\.Mismatch: host\.csr is not the file the request was made for/);
  });
});
