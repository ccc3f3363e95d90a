// OpenPGP through the real handler table: keys made with CreateKey, signatures and certificates
// made by completeSignature/signMessage (one audited AsymmetricSign each), read back by this
// format's own verify() and by OpenPGP.js as an independent parser (gpg and sq are in
// test/interop/openpgp-peer.test.ts). Fingerprints stay fixed across exports and restarts;
// SM2 and malformed inputs are refused with their codes. Key usage and subkey binding time are
// checked on certificates made by hand (DeskKMS never writes a certify-only key or a subkey).
import { Readable } from 'node:stream';
import type * as OpenPgp from 'openpgp';
import { describe, expect, it } from 'vitest';
// A format's test signs through the handler table, as operation tests do (core/formats' layering
// rule is for the format modules; see the report on issue 13).
import { chooseSigningKey, completeSignature, signMessage, type Signer } from '../actions/format-signing.ts';
import { listAuditEntries } from '../audit/audit-log.ts';
import type { KeySpec } from '../contract/specs.ts';
import { useActionVault } from '../../test/support/action-vault.ts';
import type { SigningKeyInfo } from './format.ts';
import { MAX_USER_ID_BYTES, beginCertificate, openpgpFingerprint, openpgpFormat, openpgpKeyId } from './openpgp.ts';
import { crc24 } from './openpgp-packets.ts';
import { handMadeCertificate, handMadeSignature } from '../../test/support/openpgp-hand-made.ts';

// OpenPGP.js's browser build (pure JS curves over WebCrypto, which Node has): its Node build needs
// the optional eckey-utils package for secp256k1, which openpgp 6.3.2 lists only as a devDependency.
const OPENPGP_BROWSER_BUILD = new URL('../../node_modules/openpgp/dist/openpgp.mjs', import.meta.url).href;
const openpgp = (await import(OPENPGP_BROWSER_BUILD)) as typeof OpenPgp;

const fixture = useActionVault('openpgp');
const signer = (): Signer => ({ vault: fixture.vault, caller: 'test' });
const USER_ID = 'Release Signer <release@example.org>';
const MESSAGE = new TextEncoder().encode('deskkms-1.0.0.tar.gz contents\n');

const chunks = (...parts: Uint8Array[]): AsyncIterable<Uint8Array> => Readable.from(parts, { objectMode: true }) as AsyncIterable<Uint8Array>;

async function keyOf(spec: KeySpec): Promise<SigningKeyInfo> {
  const made = await fixture.makeKey(spec, 'SIGN/VERIFY');
  return chooseSigningKey(signer(), made.keyId, made.versionId);
}

async function certificate(key: SigningKeyInfo, time?: Date): Promise<Uint8Array> {
  return completeSignature(signer(), key, 'openpgp', beginCertificate(key, USER_ID, time ? { time } : {}));
}

async function sign(key: SigningKeyInfo, message = MESSAGE): Promise<Uint8Array> {
  const { output } = await signMessage(signer(), { key: key.keyId, version: key.keyVersionId, format: 'openpgp' }, chunks(message.subarray(0, 7), message.subarray(7)));
  return output;
}

function verify(sig: Uint8Array, cert: Uint8Array, message = MESSAGE) {
  const pending = openpgpFormat.verify(sig, { certificate: cert });
  for (let i = 0; i < message.length; i += 5) pending.update(message.subarray(i, i + 5));
  return pending.result();
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return `${(error as { code?: string }).code}: ${(error as Error).message}`;
  }
  return 'no error';
}

describe('OpenPGP signatures through the handler table', () => {
  const specs: KeySpec[] = ['RSA_2048', 'EC_P256', 'EC_P256K'];
  for (const spec of specs) {
    it(`${spec}: detached signature and certificate verify (here and in OpenPGP.js), a changed message does not`, async () => {
      const key = await keyOf(spec);
      const cert = await certificate(key);
      const sig = await sign(key);
      expect(text(sig)).toMatch(/^-----BEGIN PGP SIGNATURE-----\n\n[A-Za-z0-9+/=\n]+\n=[A-Za-z0-9+/]{4}\n-----END PGP SIGNATURE-----\n$/);
      expect(text(cert)).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----\n/);

      // The AsymmetricSign behind the signature is audited as the format's.
      const last = listAuditEntries(fixture.vault.store.db, { newestFirst: true, limit: 1 })[0]!;
      expect(last).toMatchObject({ action: 'AsymmetricSign', caller: 'test:openpgp', code: 'OK', keyId: key.keyId, keyVersionId: key.keyVersionId });

      const fpr = openpgpFingerprint(key);
      expect(fpr).toMatch(/^[0-9A-F]{40}$/);
      expect(openpgpKeyId(key)).toBe(fpr.slice(24));
      expect(verify(sig, cert)).toEqual({ valid: true, signer: `${USER_ID} (${fpr})` });
      const changed = MESSAGE.slice();
      changed[3]! ^= 0x01;
      const bad = verify(sig, cert, changed);
      expect(bad.valid).toBe(false);
      expect(bad.reason).toMatch(/changed/);

      // OpenPGP.js parses both and agrees on fingerprint, User ID, self-signature and signature.
      const pgpKey = await openpgp.readKey({ armoredKey: text(cert) });
      expect(pgpKey.getFingerprint().toUpperCase()).toBe(fpr);
      expect(pgpKey.getUserIDs()).toEqual([USER_ID]);
      expect(pgpKey.getCreationTime().getTime()).toBe(Math.floor(key.created.getTime() / 1000) * 1000);
      await pgpKey.verifyPrimaryKey();
      const checked = await openpgp.verify({
        message: await openpgp.createMessage({ binary: MESSAGE }),
        signature: await openpgp.readSignature({ armoredSignature: text(sig) }),
        verificationKeys: pgpKey,
        format: 'binary',
        // OpenPGP.js refuses secp256k1 keys unless told otherwise (config.rejectCurves).
        config: { rejectCurves: new Set() },
      });
      await expect(checked.signatures[0]!.verified).resolves.toBe(true);
    });
  }

  it('the fingerprint is fixed per key version: two exports and a restart give the same key packet', async () => {
    const key = await keyOf('EC_P256');
    const first = await certificate(key, new Date(key.created.getTime() + 1000));
    const second = await certificate(key, new Date(key.created.getTime() + 3_600_000));
    expect(text(first)).not.toBe(text(second)); // the self-signatures differ (time), the keys not
    const [a, b] = await Promise.all([openpgp.readKey({ armoredKey: text(first) }), openpgp.readKey({ armoredKey: text(second) })]);
    expect(a.getFingerprint()).toBe(b.getFingerprint());
    expect(a.getFingerprint().toUpperCase()).toBe(openpgpFingerprint(key));
    await fixture.reopen();
    const again = await chooseSigningKey(signer(), key.keyId, key.keyVersionId);
    expect(openpgpFingerprint(again)).toBe(openpgpFingerprint(key));
    const sig = await sign(again);
    expect(verify(sig, first).valid).toBe(true);
  });

  it('a signature by another key is invalid with the certificate, naming the key that signed', async () => {
    const [one, other] = await Promise.all([keyOf('EC_P256'), keyOf('EC_P256')]);
    const result = verify(await sign(other), await certificate(one));
    expect(result.valid).toBe(false);
    expect(result.reason).toContain(openpgpFingerprint(other));
  });

  it('SM2 is refused with Format.UnsupportedKeySpec naming the reason', async () => {
    const key = await keyOf('EC_SM2');
    expect(openpgpFormat.unsupported('EC_SM2')).toMatch(/no SM2 public-key algorithm/);
    expect(openpgpFormat.unsupported('EC_P256K')).toBeUndefined();
    expect(codeOf(() => openpgpFormat.begin(key, {}))).toMatch(/^Format\.UnsupportedKeySpec: OpenPGP cannot carry a EC_SM2 key: OpenPGP defines no SM2/);
    expect(codeOf(() => beginCertificate(key, USER_ID))).toMatch(/^Format\.UnsupportedKeySpec/);
    await expect(signMessage(signer(), { key: key.keyId, version: key.keyVersionId, format: 'openpgp' }, chunks(MESSAGE))).rejects.toMatchObject({ code: 'Format.UnsupportedKeySpec' });
  });

  it('User IDs are checked: one printable line, not empty, not too long', async () => {
    const key = await keyOf('EC_P256');
    for (const bad of ['', '   ', 'A <a@b>\nB', 'tab\there', 'nul\0', 'x'.repeat(MAX_USER_ID_BYTES + 1), ' lead <a@b>', 'lone \ud800 <a@b>', 'sep\u2028x']) {
      expect(codeOf(() => beginCertificate(key, bad))).toMatch(/^InvalidParameter: --user-id: /);
    }
    const ok = 'Jürgen Müller (Release key) <jürgen@example.org>';
    const cert = await completeSignature(signer(), key, 'openpgp', beginCertificate(key, ok));
    expect((await openpgp.readKey({ armoredKey: text(cert) })).getUserIDs()).toEqual([ok]);
  });

  it('malformed signatures and certificates are refused with Format.Malformed, a missing certificate with MissingParameter', async () => {
    const key = await keyOf('EC_P256');
    const cert = await certificate(key);
    const sig = await sign(key);
    const refuse = (s: Uint8Array | string, c: Uint8Array | string = cert): string =>
      codeOf(() => openpgpFormat.verify(typeof s === 'string' ? new TextEncoder().encode(s) : s, { certificate: typeof c === 'string' ? new TextEncoder().encode(c) : c }));
    expect(codeOf(() => openpgpFormat.verify(sig, {}))).toBe('MissingParameter: --certificate is required');
    expect(refuse('')).toMatch(/^Format\.Malformed: signature: is empty/);
    expect(refuse('hello world')).toMatch(/^Format\.Malformed: signature: does not start with -----BEGIN PGP SIGNATURE-----/);
    expect(refuse(text(cert))).toMatch(/^Format\.Malformed: signature: is armored as "PGP PUBLIC KEY BLOCK"/);
    // A changed base64 character breaks the CRC-24.
    const lines = text(sig).split('\n');
    const body = lines[2]!;
    lines[2] = (body[10] === 'A' ? 'B' : 'A').padStart(11, body.slice(0, 10)) + body.slice(11);
    expect(refuse(lines.join('\n'))).toMatch(/^Format\.Malformed: signature: the armor checksum \(CRC-24\) does not match/);
    // Binary: cut short, trailing garbage, two packets, a certificate given as the signature.
    const binary = armoredData(sig);
    expect(refuse(binary.subarray(0, binary.length - 3))).toMatch(/^Format\.Malformed: signature: packet 1 \(tag 2\) claims/);
    expect(refuse(new Uint8Array([...binary, 0x01]))).toMatch(/^Format\.Malformed: signature: byte \d+ is not a packet header/);
    expect(refuse(new Uint8Array([...binary, ...binary]))).toMatch(/^Format\.Malformed: signature: holds tag 2, tag 2; a detached signature is one signature packet/);
    expect(refuse(armoredData(cert))).toMatch(/^Format\.Malformed: signature: holds tag 6, tag 13, tag 2/);
    // A bad CRC line and a body that is not base64.
    expect(refuse(text(sig).replace(/\n=.{4}\n/, '\n=AAAA\n'))).toMatch(/CRC-24/);
    expect(refuse(text(sig).replace('\n\n', '\n\n*'))).toMatch(/^Format\.Malformed: signature: the armor holds a line that is not base64/);
    // Certificates.
    expect(refuse(sig, 'junk')).toMatch(/^Format\.Malformed: certificate: does not start with -----BEGIN PGP PUBLIC KEY BLOCK-----/);
    expect(refuse(sig, sig)).toMatch(/^Format\.Malformed: certificate: is armored as "PGP SIGNATURE"/);
    const certBytes = armoredData(cert);
    expect(refuse(sig, certBytes.subarray(0, 40))).toMatch(/^Format\.Malformed: certificate: packet 1 \(tag 6\) claims/);
    expect(refuse(sig, new Uint8Array([...certBytes, ...certBytes]))).toMatch(/more than one primary key/);
    // The key packet alone (no User ID).
    const keyLength = certBytes[1]!;
    expect(refuse(sig, certBytes.subarray(0, 2 + keyLength))).toMatch(/^Format\.Malformed: certificate: has no User ID/);
    // CRC-24 known answer (RFC 4880 6.1's parameters): "123456789" -> 0x21CF02.
    expect(crc24(new TextEncoder().encode('123456789'))).toBe(0x21cf02);
  });
});

describe('what the issuing key may sign, as gpg and sq judge it (certificates made by hand: DeskKMS writes neither case)', () => {
  const T = 1_760_000_000;
  const check = (sig: Uint8Array, cert: Uint8Array, message = MESSAGE) => verify(sig, cert, message);

  it('a primary key signs data only when its self-signature has the sign flag, or no key flags at all (gpg 2.2 reads the algorithm then)', () => {
    const certifyOnly = handMadeCertificate({ userId: 'Certify Only <c@example.org>', created: T, primaryFlags: 0x01 });
    const sig = handMadeSignature(certifyOnly.primary, T + 60, MESSAGE);
    expect(check(sig, certifyOnly.certificate)).toEqual({
      valid: false,
      signer: `Certify Only <c@example.org> (${certifyOnly.primary.fingerprint})`,
      reason: `it was made by the certificate's primary key ${certifyOnly.primary.fingerprint}, whose self-signature does not allow it to sign (key flags 0x01: certify)`,
    });
    // A changed message is still named as such first.
    expect(check(sig, certifyOnly.certificate, MESSAGE.subarray(1)).reason).toMatch(/changed/);
    for (const [flags, valid] of [
      [0x03, true],
      [0x02, true],
      [undefined, true],
      [0x0c, false],
      [0x00, false],
    ] as const) {
      const made = handMadeCertificate({ userId: 'U <u@example.org>', created: T, primaryFlags: flags });
      const result = check(handMadeSignature(made.primary, T + 60, MESSAGE), made.certificate);
      expect(result.valid, `flags ${flags} ${result.reason}`).toBe(valid);
      if (!valid) expect(result.reason).toMatch(/does not allow it to sign \(key flags 0x0[c0]: (encrypt|no usage)\)$/);
    }
    // A direct-key signature's flags come before the User ID's (gpg 2.2's order).
    for (const [uidFlags, directFlags, valid] of [
      [0x03, 0x01, false],
      [0x01, 0x03, true],
    ] as const) {
      const made = handMadeCertificate({ userId: 'D <d@example.org>', created: T, primaryFlags: uidFlags, directFlags });
      expect(check(handMadeSignature(made.primary, T + 60, MESSAGE), made.certificate).valid, `direct ${directFlags}`).toBe(valid);
    }
  });

  it('a subkey signature dated before the subkey\'s binding signature is invalid; the binding in force at the signature\'s time decides', () => {
    const made = handMadeCertificate({ userId: 'Sub <s@example.org>', created: T, primaryFlags: 0x01, subkey: { created: T + 10, boundAt: [T + 1000], flags: 0x02 } });
    const subkey = made.subkey!.fingerprint;
    const early = check(handMadeSignature(made.subkey!, T + 500, MESSAGE), made.certificate);
    expect(early).toEqual({
      valid: false,
      signer: `Sub <s@example.org> (${made.primary.fingerprint}, subkey ${subkey})`,
      reason: `it is dated ${new Date((T + 500) * 1000).toISOString()}, before the certificate bound subkey ${subkey} (its binding signature is dated ${new Date((T + 1000) * 1000).toISOString()})`,
    });
    expect(check(handMadeSignature(made.subkey!, T + 1000, MESSAGE), made.certificate).valid).toBe(true);
    expect(check(handMadeSignature(made.subkey!, T + 2000, MESSAGE), made.certificate).valid).toBe(true);
    // Re-bound later (a renewed binding): a signature between the two is covered by the first.
    const rebound = handMadeCertificate({ userId: 'Sub <s@example.org>', created: T, primaryFlags: 0x01, subkey: { created: T + 10, boundAt: [T + 1000, T + 5000], flags: 0x02 } });
    expect(check(handMadeSignature(rebound.subkey!, T + 3000, MESSAGE), rebound.certificate).valid).toBe(true);
    expect(check(handMadeSignature(rebound.subkey!, T + 999, MESSAGE), rebound.certificate).reason).toMatch(/before the certificate bound subkey/);
    // A subkey bound for encryption only does not sign.
    const encrypting = handMadeCertificate({ userId: 'Sub <s@example.org>', created: T, primaryFlags: 0x03, subkey: { created: T + 10, boundAt: [T + 1000], flags: 0x0c } });
    expect(check(handMadeSignature(encrypting.subkey!, T + 2000, MESSAGE), encrypting.certificate).reason).toMatch(/cannot sign here: the certificate does not bind it for signing/);
  });
});

function armoredData(armored: Uint8Array): Uint8Array {
  const lines = text(armored).trim().split('\n');
  return new Uint8Array(Buffer.from(lines.slice(2, -2).join(''), 'base64'));
}
