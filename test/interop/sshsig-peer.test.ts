// SSHSIG against the real peer, OpenSSH's ssh-keygen: signatures the vault makes (through the
// handler table, streamed over a multi-MiB file) are accepted by `ssh-keygen -Y verify` with an
// allowed_signers file written by allowedSignersLine and by `-Y check-novalidate`, and refused for
// a changed byte or another namespace; signatures ssh-keygen makes with its own keys (`-Y sign`)
// are read by sshFormat.verify, so the parser is proven against the peer's output too.
import { spawnSync } from 'node:child_process';
import { createReadStream, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { signMessage, type Signer } from '../../core/actions/format-signing.ts';
import type { KeySpec } from '../../core/contract/specs.ts';
import { allowedSignersLine, openSshPublicKey, sshFingerprint, sshFormat } from '../../core/formats/sshsig.ts';
import { useActionVault, type MadeKey } from '../support/action-vault.ts';

const fixture = useActionVault('sshsig-peer');
const signer = (): Signer => ({ vault: fixture.vault, caller: 'test' });
const SPECS = ['EC_P256', 'RSA_2048', 'RSA_3072', 'RSA_4096'] as const satisfies readonly KeySpec[];
const FAMILY: Record<(typeof SPECS)[number], string> = { EC_P256: 'ECDSA', RSA_2048: 'RSA', RSA_3072: 'RSA', RSA_4096: 'RSA' };
const PRINCIPAL = 'release@example.com';
const SIZE = 5 * 1024 * 1024 + 12_345; // several read chunks, not a multiple of any of them

let file: string;
let changed: string;
let allowed: string;
const keys = {} as Record<(typeof SPECS)[number], MadeKey>;

function sshKeygen(args: readonly string[], input?: Buffer) {
  const r = spawnSync('ssh-keygen', args, { input, maxBuffer: 16 << 20, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

beforeAll(async () => {
  for (const spec of SPECS) keys[spec] = await fixture.makeKey(spec, 'SIGN/VERIFY');
  const data = Buffer.alloc(SIZE);
  for (let i = 0; i < SIZE; i++) data[i] = (i * 2654435761) >>> 24;
  file = fixture.file('release.tar');
  writeFileSync(file, data);
  data[SIZE >> 1] = data[SIZE >> 1]! ^ 0x20;
  changed = fixture.file('release-changed.tar');
  writeFileSync(changed, data);
  allowed = fixture.file('allowed_signers');
  writeFileSync(allowed, `# DeskKMS release keys\n${SPECS.map((s) => allowedSignersLine(keys[s].pem, PRINCIPAL)).join('\n')}\n`);
}, 120_000);

describe('ssh-keygen verifies what the vault signs', () => {
  it.each(SPECS)('%s: -Y verify and -Y check-novalidate accept it; a changed byte and another namespace are refused', async (spec) => {
    const key = keys[spec];
    const { output } = await signMessage(signer(), { key: key.keyId, version: key.versionId, format: 'ssh' }, createReadStream(file, { highWaterMark: 64 << 10 }));
    const sig = `${file}.${spec}.sig`;
    writeFileSync(sig, output);
    const message = readFileSync(file);
    const fingerprint = sshFingerprint(key.pem);

    const verified = sshKeygen(['-Y', 'verify', '-f', allowed, '-I', PRINCIPAL, '-n', 'file', '-s', sig], message);
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stdout).toBe(`Good "file" signature for ${PRINCIPAL} with ${FAMILY[spec]} key ${fingerprint}\n`);

    const novalidate = sshKeygen(['-Y', 'check-novalidate', '-n', 'file', '-s', sig], message);
    expect(novalidate.status, novalidate.stderr).toBe(0);
    expect(novalidate.stdout).toBe(`Good "file" signature with ${FAMILY[spec]} key ${fingerprint}\n`);

    const principals = sshKeygen(['-Y', 'find-principals', '-f', allowed, '-s', sig]);
    expect(principals.status, principals.stderr).toBe(0);
    expect(principals.stdout).toBe(`${PRINCIPAL}\n`);

    const tampered = sshKeygen(['-Y', 'verify', '-f', allowed, '-I', PRINCIPAL, '-n', 'file', '-s', sig], readFileSync(changed));
    expect(tampered.status).toBe(255);
    expect(tampered.stdout).not.toContain('Good');
    expect(tampered.stderr).toContain('Signature verification failed');
    const tamperedNovalidate = sshKeygen(['-Y', 'check-novalidate', '-n', 'file', '-s', sig], readFileSync(changed));
    expect(tamperedNovalidate.status).toBe(255);

    const otherNamespace = sshKeygen(['-Y', 'verify', '-f', allowed, '-I', PRINCIPAL, '-n', 'git', '-s', sig], message);
    expect(otherNamespace.status).toBe(255);
    expect(otherNamespace.stderr).toContain('namespace does not match');

    // our own verify agrees with the peer
    const own = sshFormat.verify(output, { allowedSigners: readFileSync(allowed, 'utf8'), principal: PRINCIPAL });
    own.update(message);
    expect(own.result()).toEqual({ valid: true, signer: `${PRINCIPAL} with ${FAMILY[spec]} key ${fingerprint}` });
  }, 60_000);

  it('ssh-keygen honours the namespaces= restriction allowedSignersLine writes', async () => {
    const key = keys.EC_P256;
    const restricted = fixture.file('allowed_signers.git-only');
    writeFileSync(restricted, `${allowedSignersLine(key.pem, PRINCIPAL, { namespaces: ['git'] })}\n`);
    const message = Buffer.from('tree 1234\n');
    for (const namespace of ['git', 'file']) {
      const { output } = await signMessage(signer(), { key: key.keyId, version: key.versionId, format: 'ssh', options: { namespace } }, Readable.from([new Uint8Array(message)]));
      const sig = fixture.file(`${namespace}.sig`);
      writeFileSync(sig, output);
      const r = sshKeygen(['-Y', 'verify', '-f', restricted, '-I', PRINCIPAL, '-n', namespace, '-s', sig], message);
      expect(r.status, `${namespace}: ${r.stderr}`).toBe(namespace === 'git' ? 0 : 255);
      if (namespace === 'file') expect(r.stderr).toContain('not permitted for use in signature namespace "file"');
    }
  });
});

describe('sshFormat.verify reads what ssh-keygen signs', () => {
  const cases = [
    { type: 'ecdsa', bits: '256', family: 'ECDSA', hashalg: undefined },
    { type: 'rsa', bits: '3072', family: 'RSA', hashalg: undefined }, // rsa-sha2-512 over sha512
    { type: 'rsa', bits: '2048', family: 'RSA', hashalg: 'sha256' }, // rsa-sha2-256 over sha256
    { type: 'ecdsa', bits: '256', family: 'ECDSA', hashalg: 'sha256' },
  ] as const;
  it.each(cases)('ssh-keygen -t $type -b $bits (hashalg $hashalg)', ({ type, bits, family, hashalg }) => {
    const keyFile = fixture.file(`id_${type}${bits}`);
    const made = sshKeygen(['-q', '-t', type, '-b', bits, '-N', '', '-C', 'peer@example.com', '-f', keyFile]);
    expect(made.status, made.stderr).toBe(0);
    const pub = readFileSync(`${keyFile}.pub`, 'utf8');
    rmSync(`${file}.sig`, { force: true }); // ssh-keygen would ask before overwriting, and keep the old one
    const signed = sshKeygen(['-Y', 'sign', '-f', keyFile, '-n', 'file', ...(hashalg ? ['-O', `hashalg=${hashalg}`] : []), file]);
    expect(signed.status, signed.stderr).toBe(0);
    const sig = readFileSync(`${file}.sig`);
    const blob = Buffer.from(sig.toString().split('\n').slice(1, -2).join(''), 'base64');
    expect(blob.includes(Buffer.from(hashalg ?? 'sha512'))).toBe(true);
    // OpenSSH 9.2 signs rsa-sha2-512 whatever the hashalg; later releases pair sha256 with rsa-sha2-256
    if (type === 'rsa') expect(blob.includes(Buffer.from('rsa-sha2-512')) || blob.includes(Buffer.from('rsa-sha2-256'))).toBe(true);
    const fingerprint = sshKeygen(['-l', '-E', 'sha256', '-f', `${keyFile}.pub`]).stdout.split(' ')[1];

    const run = (message: string, material: Parameters<typeof sshFormat.verify>[1]) => {
      const pending = sshFormat.verify(sig, material);
      const data = readFileSync(message);
      for (let i = 0; i < data.length; i += 1 << 20) pending.update(data.subarray(i, i + (1 << 20)));
      return pending.result();
    };
    expect(run(file, { publicKey: Buffer.from(pub) })).toEqual({ valid: true, signer: `${family} key ${fingerprint}` });
    expect(run(file, { allowedSigners: `peer@example.com ${pub}`, principal: 'peer@example.com' })).toEqual({
      valid: true,
      signer: `peer@example.com with ${family} key ${fingerprint}`,
    });
    expect(run(changed, { publicKey: Buffer.from(pub) })).toMatchObject({ valid: false, reason: expect.stringContaining('does not match this file') });
    expect(run(file, { publicKey: Buffer.from(pub), namespace: 'git' })).toMatchObject({ valid: false });
    expect(run(file, { publicKey: Buffer.from(openSshPublicKey(keys.EC_P256.pem)) })).toMatchObject({ valid: false, reason: expect.stringContaining('not by the given public key') });
  });

  it('an ed25519 signature from ssh-keygen is refused with Format.UnsupportedKeySpec naming the key type', () => {
    const keyFile = fixture.file('id_ed25519');
    expect(sshKeygen(['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]).status).toBe(0);
    const msg = fixture.file('small.txt');
    writeFileSync(msg, 'hello\n');
    expect(sshKeygen(['-Y', 'sign', '-f', keyFile, '-n', 'file', msg]).status).toBe(0);
    expect(() => sshFormat.verify(readFileSync(`${msg}.sig`), { publicKey: readFileSync(`${keyFile}.pub`) })).toThrow(
      expect.objectContaining({ code: 'Format.UnsupportedKeySpec', message: expect.stringContaining('ssh-ed25519') }),
    );
  });
});
