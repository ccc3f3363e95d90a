// OpenPGP against the peers nobody here wrote: Debian's gpg 2.2 (a temporary GNUPGHOME), sq 0.27
// (sequoia-openpgp) and OpenPGP.js read every certificate and detached signature DeskKMS makes, for
// RSA_2048, RSA_4096, EC_P256 and EC_P256K, and each refuses the file once one byte changed. The
// other way round, certificates and signatures gpg made (nistp256 and rsa2048 keys, armored and
// binary) are verified by DeskKMS's own reader, so it is proven against a peer's output too.
// Key usage and binding time are judged as the peers judge them, on certificates made by hand
// (test/support/openpgp-hand-made.ts): where gpg and sq disagree, the choice is asserted here.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type * as OpenPgp from 'openpgp';
import * as openpgpNode from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseSigningKey, completeSignature, signMessage, type Signer } from '../../core/actions/format-signing.ts';
import type { KeySpec } from '../../core/contract/specs.ts';
import type { SigningKeyInfo } from '../../core/formats/format.ts';
import { beginCertificate, openpgpFingerprint, openpgpFormat } from '../../core/formats/openpgp.ts';
import { concat, fingerprintOf, packet, readPackets } from '../../core/formats/openpgp-packets.ts';
import { useActionVault } from '../support/action-vault.ts';
import { handMadeCertificate, handMadeSignature } from '../support/openpgp-hand-made.ts';
import { flipByte } from './openssl-peer.ts';

// OpenPGP.js's browser build runs in Node on WebCrypto and pure-JS curves; the Node build needs the
// optional eckey-utils package for secp256k1 (a devDependency of openpgp 6.3.2 only). Both are used.
const openpgp = (await import(new URL('../../node_modules/openpgp/dist/openpgp.mjs', import.meta.url).href)) as typeof OpenPgp;

const fixture = useActionVault('openpgp-peer');
const signer = (): Signer => ({ vault: fixture.vault, caller: 'test' });
const USER_ID = 'DeskKMS Release <release@deskkms.example>';
let work: string;
let gnupgHome: string;

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], input?: Uint8Array): Run {
  const r = spawnSync(command, args, { cwd: work, env: { ...process.env, GNUPGHOME: gnupgHome, LC_ALL: 'C' }, input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Run): Run {
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

const gpg = (...args: string[]): Run => run('gpg', ['--batch', '--no-tty', '--status-fd', '1', ...args]);

function write(name: string, bytes: Uint8Array | string): string {
  const path = join(work, name);
  writeFileSync(path, bytes);
  return path;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'deskkms-openpgp-peer-'));
  gnupgHome = join(work, 'gnupg');
  rmSync(gnupgHome, { recursive: true, force: true });
  writeFileSync(join(work, '.keep'), '');
  spawnSync('mkdir', ['-m', '700', gnupgHome]);
  chmodSync(gnupgHome, 0o700);
});

afterAll(() => {
  if (gnupgHome) spawnSync('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: gnupgHome } });
  if (work) rmSync(work, { recursive: true, force: true });
});

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

async function made(spec: KeySpec): Promise<{ key: SigningKeyInfo; cert: Uint8Array; sig: Uint8Array; message: Uint8Array; time: number }> {
  const created = await fixture.makeKey(spec, 'SIGN/VERIFY');
  const key = await chooseSigningKey(signer(), created.keyId, created.versionId);
  const cert = await completeSignature(signer(), key, 'openpgp', beginCertificate(key, USER_ID));
  const message = new Uint8Array(randomBytes(200_000));
  // Signed a minute after the version's creation, long before the certificate is made: the
  // certificate's self-signature is dated at the version's creation, so sq (which wants a binding
  // signature no newer than the signature) accepts it.
  const time = new Date(Math.floor(key.created.getTime() / 1000) * 1000 + 60_000);
  const parts = [message.subarray(0, 70_000), message.subarray(70_000)];
  const { output } = await signMessage(
    signer(),
    { key: key.keyId, version: key.keyVersionId, format: 'openpgp', options: { time } },
    Readable.from(parts, { objectMode: true }) as AsyncIterable<Uint8Array>,
  );
  return { key, cert, sig: output, message, time: time.getTime() / 1000 };
}

const PK_ALGO: Record<string, number> = { RSA_2048: 1, RSA_4096: 1, EC_P256: 19, EC_P256K: 19 };

describe('peers verify what DeskKMS signs', () => {
  for (const spec of ['RSA_2048', 'RSA_4096', 'EC_P256', 'EC_P256K'] as const) {
    it(`${spec}: gpg, sq and OpenPGP.js accept the certificate and the signature; a changed byte is refused by each`, async () => {
      const { key, cert, sig, message, time } = await made(spec);
      const fpr = openpgpFingerprint(key);
      const name = spec.toLowerCase();
      const certFile = write(`${name}.cert.asc`, cert);
      const file = write(`${name}.tar.gz`, message);
      const sigFile = write(`${name}.tar.gz.asc`, sig);
      const changedFile = write(`${name}-changed.tar.gz`, flipByte(message, 123_456));

      // gpg: the certificate imports with its User ID and self-signature; the signature is good.
      const imported = gpg('--import', certFile);
      expect(imported.status, imported.stderr).toBe(0);
      expect(imported.stdout).toContain(`[GNUPG:] IMPORT_OK 1 ${fpr}`);
      expect(imported.stdout).toContain(`[GNUPG:] IMPORTED ${fpr.slice(24)} ${USER_ID}`);
      expect(imported.stderr).not.toMatch(/invalid|skipped|no valid user IDs/i);
      const listed = gpg('--with-colons', '--list-keys', fpr);
      const records = listed.stdout.split('\n').map((line) => line.split(':'));
      expect(records.find((f) => f[0] === 'fpr')?.[9]).toBe(fpr);
      expect(records.find((f) => f[0] === 'uid')?.[9]).toBe(USER_ID);
      const pub = records.find((f) => f[0] === 'pub')!;
      expect([pub[3], pub[5], pub[11]]).toEqual([String(PK_ALGO[spec]), String(Math.floor(key.created.getTime() / 1000)), 'scSC']); // algorithm, creation time, sign+certify

      const good = gpg('--trust-model', 'always', '--verify', sigFile, file);
      expect(good.status, good.stderr).toBe(0);
      expect(good.stdout).toContain(`[GNUPG:] GOODSIG ${fpr.slice(24)} ${USER_ID}`);
      // VALIDSIG <fpr> <date> <sig time> <expire> <version 4> <reserved> <pk algo> <hash 8> <class 00> <primary fpr>
      expect(good.stdout).toMatch(new RegExp(`\\[GNUPG:\\] VALIDSIG ${fpr} \\d{4}-\\d\\d-\\d\\d ${time} 0 4 0 ${PK_ALGO[spec]} 8 00 ${fpr}`));
      const bad = gpg('--trust-model', 'always', '--verify', sigFile, changedFile);
      expect(bad.status).toBe(1);
      expect(bad.stdout).toContain(`[GNUPG:] BADSIG ${fpr.slice(24)} ${USER_ID}`);
      expect(bad.stdout).not.toContain('GOODSIG');

      // sq (Sequoia over Nettle).
      const inspected = run('sq', ['inspect', certFile]);
      expect(inspected.status, inspected.stderr).toBe(0);
      expect(inspected.stdout).toContain(`Fingerprint: ${fpr}`);
      expect(inspected.stdout).toContain(`UserID: ${USER_ID}`);
      const sqGood = run('sq', ['verify', '--signer-cert', certFile, '--detached', sigFile, file]);
      const sqBad = run('sq', ['verify', '--signer-cert', certFile, '--detached', sigFile, changedFile]);
      if (spec === 'EC_P256K') {
        // Nettle has no secp256k1: sq parses the certificate but cannot use the key, and says so
        // (it refuses both files alike; gpg and OpenPGP.js above and below are the peers for it).
        expect(inspected.stdout).toMatch(/ECDSA/);
        expect(sqGood.status).not.toBe(0);
        expect(sqGood.stderr).toMatch(/is not bound|secp256k1|unsupported/i);
      } else {
        expect(inspected.stdout).toMatch(spec.startsWith('RSA') ? new RegExp(`RSA\\s*\\n?.*${spec.slice(4)}`) : /ECDSA[\s\S]*256/);
        expect(sqGood.status, sqGood.stderr).toBe(0);
        expect(sqGood.stderr).toMatch(/Good signature from/);
        expect(sqGood.stderr).toMatch(/1 good signature/);
        expect(sqBad.status).not.toBe(0);
        expect(sqBad.stderr).not.toMatch(/1 good signature/);
      }
      const lint = run('sq', ['keyring', 'list', certFile]);
      expect(lint.status, lint.stderr).toBe(0);
      expect(lint.stdout).toContain(USER_ID);

      // OpenPGP.js (both builds where the Node build can: it lacks secp256k1 without eckey-utils).
      const builds: (typeof OpenPgp)[] = spec === 'EC_P256K' ? [openpgp] : [openpgp, openpgpNode];
      for (const pgp of builds) {
        const config = { ...pgp.config, rejectCurves: new Set<OpenPgp.enums.curve>() };
        const pgpKey = await pgp.readKey({ armoredKey: text(cert), config });
        expect(pgpKey.getFingerprint().toUpperCase()).toBe(fpr);
        expect(pgpKey.getUserIDs()).toEqual([USER_ID]);
        await expect(pgpKey.verifyPrimaryKey(undefined, undefined, config)).resolves.toBeUndefined();
        const signature = await pgp.readSignature({ armoredSignature: text(sig) });
        const verify = async (bytes: Uint8Array) => {
          const checked = await pgp.verify({ message: await pgp.createMessage({ binary: bytes }), signature, verificationKeys: pgpKey, format: 'binary', config });
          return checked.signatures[0]!.verified;
        };
        await expect(verify(message)).resolves.toBe(true);
        await expect(verify(flipByte(message, 123_456))).rejects.toThrow(/Signed digest did not match|signature/i);
      }
      expect(readFileSync(sigFile, 'utf8')).toBe(text(sig));
    });
  }
});

describe('DeskKMS verifies what gpg signs', () => {
  for (const algo of ['nistp256', 'rsa2048'] as const) {
    it(`a ${algo} key made by gpg: its certificate and detached signatures (armored and binary) verify here; a changed byte does not`, () => {
      const uid = `Gpg Peer ${algo} <${algo}@peer.example>`;
      const generated = run('gpg', ['--batch', '--no-tty', '--status-fd', '1', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', uid, algo, 'sign', 'never']);
      expect(generated.status, generated.stderr).toBe(0);
      const fpr = /\[GNUPG:\] KEY_CREATED P ([0-9A-F]{40})/.exec(generated.stdout)?.[1];
      expect(fpr).toMatch(/^[0-9A-F]{40}$/);
      const armoredCert = run('gpg', ['--batch', '--armor', '--export', fpr!]).stdout;
      const binaryCert = spawnSync('gpg', ['--batch', '--export', fpr!], { env: { ...process.env, GNUPGHOME: gnupgHome } }).stdout;
      expect(armoredCert).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
      const message = new Uint8Array(randomBytes(50_000));
      const file = write(`gpg-${algo}.bin`, message);
      const signWith = (armor: boolean, digest?: string): Uint8Array => {
        const out = join(work, `gpg-${algo}-${digest ?? 'default'}.${armor ? 'asc' : 'sig'}`);
        const r = run('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', '--local-user', fpr!, ...(digest ? ['--digest-algo', digest] : []), ...(armor ? ['--armor'] : []), '--output', out, '--detach-sign', file]);
        expect(r.status, r.stderr).toBe(0);
        return readFileSync(out);
      };
      // gpg's own choice of digest (SHA-512 for its RSA keys, SHA-256 for P-256) and SHA-256.
      const gpgDefault = signWith(true);
      expect(run('gpg', ['--list-packets'], gpgDefault).stdout).toContain(`digest algo ${algo === 'rsa2048' ? 10 : 8}`);
      for (const sig of [gpgDefault, signWith(true, 'SHA256'), signWith(false, 'SHA256'), signWith(false, 'SHA384')]) {
        for (const cert of [new TextEncoder().encode(armoredCert), new Uint8Array(binaryCert)]) {
          const verify = (bytes: Uint8Array) => {
            const pending = openpgpFormat.verify(sig, { certificate: cert });
            pending.update(bytes.subarray(0, 1000));
            pending.update(bytes.subarray(1000));
            return pending.result();
          };
          expect(verify(message)).toEqual({ valid: true, signer: `${uid} (${fpr})` });
          const bad = verify(flipByte(message, 4321));
          expect(bad.valid).toBe(false);
          expect(bad.reason).toMatch(/changed/);
        }
      }
      // A text-mode signature (type 0x01) hashes canonical CR LF lines.
      const lines = write(`gpg-${algo}.txt`, 'line one\nline two\r\nlast\n');
      const r = run('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', '--local-user', fpr!, '--digest-algo', 'SHA256', '--textmode', '--armor', '--output', `${lines}.asc`, '--detach-sign', lines]);
      expect(r.status, r.stderr).toBe(0);
      const textSig = readFileSync(`${lines}.asc`);
      const checkText = (content: string) => {
        const pending = openpgpFormat.verify(textSig, { certificate: new TextEncoder().encode(armoredCert) });
        pending.update(new TextEncoder().encode(content));
        return pending.result().valid;
      };
      expect(checkText('line one\r\nline two\nlast\r\n')).toBe(true);
      expect(checkText('line one\nline two\nlast!\n')).toBe(false);

      // Once the owner's revocation certificate is imported, the exported certificate carries it
      // and the same good signature is refused, naming the revocation.
      const revocation = readFileSync(join(gnupgHome, 'openpgp-revocs.d', `${fpr}.rev`), 'utf8').replace(/^:/m, '');
      ok(run('gpg', ['--batch', '--import', write(`gpg-${algo}.rev`, revocation)]));
      const revokedCert = run('gpg', ['--batch', '--armor', '--export', fpr!]).stdout;
      const pending = openpgpFormat.verify(readFileSync(join(work, `gpg-${algo}-SHA256.asc`)), { certificate: new TextEncoder().encode(revokedCert) });
      pending.update(message);
      const revoked = pending.result();
      expect(revoked.valid).toBe(false);
      expect(revoked.reason).toMatch(/^the certificate's key is revoked by its owner on \d{4}-/);
    });
  }

  it('a signing subkey: gpg\'s (nistp256 certify-only primary + signing subkey) and sq\'s (rsa3k; its other suite is cv25519) verify here, naming the subkey', () => {
    const uid = 'Subkey Peer <subkey@peer.example>';
    const made = run('gpg', ['--batch', '--no-tty', '--status-fd', '1', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', uid, 'nistp256', 'cert', 'never']);
    expect(made.status, made.stderr).toBe(0);
    const primary = /\[GNUPG:\] KEY_CREATED P ([0-9A-F]{40})/.exec(made.stdout)![1]!;
    const added = run('gpg', ['--batch', '--no-tty', '--status-fd', '1', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-add-key', primary, 'nistp256/ecdsa', 'sign', 'never']);
    expect(added.status, added.stderr).toBe(0);
    const subkey = /\[GNUPG:\] KEY_CREATED S ([0-9A-F]{40})/.exec(added.stdout)![1]!;
    ok(run('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-add-key', primary, 'nistp256', 'encr', 'never'])); // an ECDH subkey DeskKMS skips
    const message = new Uint8Array(randomBytes(10_000));
    const file = write('subkey.bin', message);
    ok(run('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', '--local-user', `${subkey}!`, '--armor', '--output', `${file}.asc`, '--detach-sign', file]));
    const cert = new TextEncoder().encode(run('gpg', ['--batch', '--armor', '--export', primary]).stdout);
    const check = (sig: Uint8Array, certificate: Uint8Array, bytes: Uint8Array) => {
      const pending = openpgpFormat.verify(sig, { certificate });
      pending.update(bytes);
      return pending.result();
    };
    const sig = readFileSync(`${file}.asc`);
    expect(check(sig, cert, message)).toEqual({ valid: true, signer: `${uid} (${primary}, subkey ${subkey})` });
    expect(check(sig, cert, flipByte(message, 9)).valid).toBe(false);
    // Without the subkey's binding signature the subkey is not the certificate's: refused, naming why.
    const packets = readPackets(new Uint8Array(spawnSync('gpg', ['--batch', '--export', primary], { env: { ...process.env, GNUPGHOME: gnupgHome } }).stdout), 'test');
    const at = packets.findIndex((p) => p.tag === 14 && fingerprintOf(p.body) === subkey);
    expect(packets[at + 1]?.tag).toBe(2);
    const unbound = concat(...packets.filter((_, i) => i !== at + 1).map((p) => packet(p.tag, p.body)));
    const refused = check(sig, unbound, message);
    expect(refused.valid).toBe(false);
    expect(refused.reason).toContain(`subkey ${subkey}, which cannot sign here: the certificate does not bind it for signing`);
    expect(check(sig, concat(...packets.map((p) => packet(p.tag, p.body))), message).valid).toBe(true);

    // sq: a certify-only primary with signing, encryption and authentication subkeys.
    for (const suite of ['rsa3k']) {
      const key = join(work, `sq-${suite}.pgp`);
      const sqCert = join(work, `sq-${suite}.cert`);
      ok(run('sq', ['key', 'generate', '--userid', `<sq-${suite}@peer.example>`, '--cipher-suite', suite, '--export', key]));
      ok(run('sq', ['key', 'extract-cert', '--output', sqCert, key]));
      ok(run('sq', ['sign', '--detached', '--signer-key', key, '--output', `${file}.${suite}.sig`, file]));
      const result = check(readFileSync(`${file}.${suite}.sig`), readFileSync(sqCert), message);
      expect(result.valid, result.reason).toBe(true);
      expect(result.signer).toMatch(new RegExp(`^<sq-${suite}@peer\\.example> \\([0-9A-F]{40}, subkey [0-9A-F]{40}\\)$`));
      expect(check(readFileSync(`${file}.${suite}.sig`), readFileSync(sqCert), flipByte(message, 0)).valid).toBe(false);
    }
  });
});

describe('key usage and binding time: DeskKMS judges as the peers do', () => {
  it('a certify-only primary signing data is refused by gpg, sq and here (and by direct-key flags, as gpg reads them); a primary without key flags is good in gpg (followed here, sq refuses); a subkey signature older than its binding is refused by sq and here (gpg 2.2 does not look)', () => {
    const now = Math.floor(Date.now() / 1000);
    const message = new Uint8Array(randomBytes(3000));
    const file = write('usage.bin', message);
    const judge = (name: string, cert: Uint8Array, sig: Uint8Array) => {
      const certFile = write(`${name}.cert.asc`, cert);
      const sigFile = write(`${name}.sig.asc`, sig);
      ok(gpg('--import', certFile));
      const g = gpg('--trust-model', 'always', '--verify', sigFile, file);
      const q = run('sq', ['verify', '--signer-cert', certFile, '--detached', sigFile, file]);
      const pending = openpgpFormat.verify(sig, { certificate: cert });
      pending.update(message);
      return { gpg: g, sq: q, here: pending.result() };
    };

    const certifyOnly = handMadeCertificate({ userId: 'Certify Only <c@peer.example>', created: now - 10_000, primaryFlags: 0x01 });
    const refused = judge('certify-only', certifyOnly.certificate, handMadeSignature(certifyOnly.primary, now - 100, message));
    expect(refused.gpg.stdout).toContain('[GNUPG:] ERRSIG');
    expect(refused.gpg.stdout).not.toContain('GOODSIG');
    expect(refused.gpg.stderr).toMatch(/Wrong key usage/);
    expect(refused.sq.status).not.toBe(0);
    expect(refused.sq.stderr).toMatch(/not signing capable/);
    expect(refused.here).toMatchObject({ valid: false, reason: expect.stringContaining('does not allow it to sign (key flags 0x01: certify)') });

    const noFlags = handMadeCertificate({ userId: 'No Flags <n@peer.example>', created: now - 10_000, primaryFlags: undefined });
    const lenient = judge('no-flags', noFlags.certificate, handMadeSignature(noFlags.primary, now - 100, message));
    expect(lenient.gpg.status, lenient.gpg.stderr).toBe(0);
    expect(lenient.gpg.stdout).toContain(`[GNUPG:] GOODSIG ${noFlags.primary.fingerprint.slice(24)}`);
    expect(lenient.sq.status).not.toBe(0);
    expect(lenient.here).toMatchObject({ valid: true });

    // A direct-key signature's flags (certify only) come before the User ID's (sign) in gpg, and here.
    const direct = handMadeCertificate({ userId: 'Direct <d@peer.example>', created: now - 10_000, primaryFlags: 0x03, directFlags: 0x01 });
    const directJudged = judge('direct', direct.certificate, handMadeSignature(direct.primary, now - 100, message));
    expect(directJudged.gpg.stderr).toMatch(/Wrong key usage/);
    expect(directJudged.gpg.stdout).not.toContain('GOODSIG');
    expect(directJudged.here).toMatchObject({ valid: false, reason: expect.stringContaining('(key flags 0x01: certify)') });

    const sub = handMadeCertificate({ userId: 'Old Sub <o@peer.example>', created: now - 10_000, primaryFlags: 0x01, subkey: { created: now - 9000, boundAt: [now - 5000], flags: 0x02 } });
    const early = judge('old-sub', sub.certificate, handMadeSignature(sub.subkey!, now - 6000, message));
    expect(early.gpg.stdout).toContain('GOODSIG');
    expect(early.sq.status).not.toBe(0);
    expect(early.sq.stderr).toMatch(/No binding signature at time/);
    expect(early.here).toMatchObject({ valid: false, reason: expect.stringContaining(`before the certificate bound subkey ${sub.subkey!.fingerprint}`) });
    const later = judge('later-sub', sub.certificate, handMadeSignature(sub.subkey!, now - 4000, message));
    expect(later.gpg.stdout).toContain('GOODSIG');
    expect(later.sq.status, later.sq.stderr).toBe(0);
    expect(later.here).toMatchObject({ valid: true });
  });
});
