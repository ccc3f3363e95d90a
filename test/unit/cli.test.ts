// The deskkms binary as a user runs it: a child process under the pinned Node, real files.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase64 } from '../../core/contract/base64.ts';
import { ASYMMETRIC_KEY_SPECS, KEY_SPECS, KEY_SPEC_TABLE, SIGNING_ALGORITHMS, type KeySpec } from '../../core/contract/specs.ts';
import { digestMessage, generateKey, publicKeyPem, signDigest, type PrivateKey } from '../../core/crypto/engine.ts';
import type { CliIO } from '../../core/hosts/cli/command.ts';
import { runCli } from '../../core/hosts/cli/run.ts';
import { COMMAND_INDEX } from '../../core/hosts/cli/command-index.ts';
import { runAgePlugin } from '../../core/hosts/programs/age-plugin.ts';
import { runGpgProgram } from '../../core/hosts/programs/gpg.ts';
import { runSigstoreKms } from '../../core/hosts/programs/sigstore-kms.ts';
import { runSshKeygen } from '../../core/hosts/programs/ssh-keygen.ts';
import { takePrestartedKeyWorker } from '../../core/worker/prestart.ts';
import { ageDecryptInput, ageEncryptInput } from '../support/age-plugin-input.ts';

const BIN = resolve(import.meta.dirname, '../../core/hosts/cli/deskkms.ts');

function deskkms(args: string[], input?: Uint8Array): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', maxBuffer: 16 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
const keys = {} as Record<KeySpec, PrivateKey>;
const message = new TextEncoder().encode('deskkms-1.0.0.tar.gz contents\n'.repeat(1000));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deskkms-cli-'));
  writeFileSync(join(dir, 'msg.bin'), message);
  for (const spec of ASYMMETRIC_KEY_SPECS) {
    keys[spec] = await generateKey(spec);
    writeFileSync(join(dir, `${spec}.pem`), publicKeyPem(keys[spec].publicKey));
    writeFileSync(join(dir, `${spec}.der`), keys[spec].publicKey.spki);
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the key worker a vault command starts early (core/worker/prestart.ts)', () => {
  it('deskkms sign and the programs git and cosign run start it only when no agent socket is there; a command that always opens the vault, always', async () => {
    const sockets = mkdtempSync(join(tmpdir(), 'deskkms-prestart-'));
    const present = join(sockets, 'agent.sock');
    writeFileSync(present, ''); // anything at the path: whether it is an agent is found out by connecting
    mkdirSync(join(sockets, 'deskkms'));
    writeFileSync(join(sockets, 'deskkms', 'agent.sock'), '');
    const absent = join(sockets, 'none.sock');
    const io = (env: Record<string, string>): CliIO =>
      ({ stdout: { write: () => true }, stderr: { write: () => true }, stdin: process.stdin, cwd: dir, env: { DESKKMS_VAULT: join(sockets, 'no-vault'), ...env } }) as unknown as CliIO;
    // Each fails on its arguments (exit 2) after the decision, before any vault is opened.
    const cases: [string[], Record<string, string>, boolean][] = [
      [['sign'], { DESKKMS_AGENT_SOCK: present }, false],
      [['sign'], { XDG_RUNTIME_DIR: sockets }, false], // the default socket, $XDG_RUNTIME_DIR/deskkms/agent.sock
      // Another program's agent at SSH_AUTH_SOCK (the common case) does not count
      [['sign'], { SSH_AUTH_SOCK: present, XDG_RUNTIME_DIR: join(sockets, 'elsewhere') }, true],
      [['sign'], { DESKKMS_AGENT_SOCK: absent }, true],
      [['sign'], { DESKKMS_NO_AGENT: '1', DESKKMS_AGENT_SOCK: present }, true],
      [['status', '--bogus'], { DESKKMS_AGENT_SOCK: present }, true],
      [['sign', '--help'], { DESKKMS_AGENT_SOCK: absent }, false],
    ];
    try {
      for (const [args, env, prestarted] of cases) {
        expect(await runCli(args, io(env))).toBe(args.includes('--help') ? 0 : 2);
        const worker = takePrestartedKeyWorker();
        expect(worker !== undefined, `${args.join(' ')} ${JSON.stringify(env)}`).toBe(prestarted);
        await worker?.terminate();
      }
      // The programs git, cosign and age run: the same rule when they sign (each failing after the
      // decision: ssh-keygen at the key file, the others at the missing vault); what they hand to
      // the real program, and what needs no key, starts none.
      const sigstoreCall = (method: string, args: object | null = null) =>
        ['v1', JSON.stringify({ initOptions: { protocolVersion: 'v1', keyResourceID: 'alias/none', hashFunc: 5 }, methodName: method, [method]: args })];
      const fingerprint = '5BFBA301E17BE51F88B794DA30B31FCBCFC41383';
      const AGE_KEY = '5b3f3c4e-7a43-4c2b-9d0e-2f4f3b6a1c11';
      const AGE_OTHER_KEY = '0d6b2f8e-41c5-4a8e-b0f4-8d1e2c3b4a59';
      const rsaRecipient = { kind: 'rsa', keyId: AGE_KEY, keyVersionId: AGE_OTHER_KEY, spki: keys.RSA_2048.publicKey.spki } as const;
      const programs: [string, (env: Record<string, string>) => Promise<number>, number, 'unless-agent' | 'always' | 'never'][] = [
        ['ssh-keygen -Y sign', (env) => runSshKeygen(['-Y', 'sign', '-n', 'git', '-f', join(sockets, 'none.pub'), join(sockets, 'msg')], io(env)), 255, 'unless-agent'],
        ['gpg -bsau', (env) => runGpgProgram(['--status-fd=2', '-bsau', fingerprint], { ...io(env), status: () => undefined }), 2, 'unless-agent'],
        ['gpg -bsau (no key named)', (env) => runGpgProgram(['-bsau', 'someone@example.org'], { ...io(env), status: () => undefined }), 2, 'never'],
        ['sigstore signMessage', (env) => runSigstoreKms(sigstoreCall('signMessage'), io(env)), 0, 'unless-agent'],
        ['sigstore publicKey', (env) => runSigstoreKms(sigstoreCall('publicKey'), io(env)), 0, 'unless-agent'],
        ['sigstore createKey', (env) => runSigstoreKms(sigstoreCall('createKey'), io(env)), 0, 'always'],
        ['sigstore defaultAlgorithm', (env) => runSigstoreKms(sigstoreCall('defaultAlgorithm'), io(env)), 0, 'never'],
        ['sigstore verifySignature', (env) => runSigstoreKms(sigstoreCall('verifySignature', { signature: 'AAAA' }), io(env)), 0, 'always'],
        ['age -d', (env) => runAgePlugin(['--age-plugin=identity-v1'], { ...io(env), stdin: Readable.from([Buffer.from(ageDecryptInput(AGE_KEY))]) }), 0, 'always'],
        // Nothing for the vault to do: an identity no stanza names, a recipient that carries its public key.
        ['age -d (no stanza of the identity)', (env) => runAgePlugin(['--age-plugin=identity-v1'], { ...io(env), stdin: Readable.from([Buffer.from(ageDecryptInput(AGE_KEY, AGE_OTHER_KEY))]) }), 0, 'never'],
        ['age -r (RSA recipient)', (env) => runAgePlugin(['--age-plugin=recipient-v1'], { ...io(env), stdin: Readable.from([Buffer.from(ageEncryptInput(rsaRecipient))]) }), 0, 'never'],
      ];
      for (const [name, run, status, rule] of programs) {
        for (const env of [{ DESKKMS_AGENT_SOCK: present }, { DESKKMS_AGENT_SOCK: absent }]) {
          expect(await run(env), `${name} ${JSON.stringify(env)}`).toBe(status);
          const worker = takePrestartedKeyWorker();
          const expected = rule === 'always' || (rule === 'unless-agent' && env.DESKKMS_AGENT_SOCK === absent);
          expect(worker !== undefined, `${name} ${JSON.stringify(env)}`).toBe(expected);
          await worker?.terminate();
        }
      }
    } finally {
      rmSync(sockets, { recursive: true, force: true });
    }
  });
});

describe('deskkms verify', () => {
  it('exits 0 "valid" for every spec and algorithm, from a file or a digest, PEM or DER key, raw or base64 signature', async () => {
    for (const spec of ASYMMETRIC_KEY_SPECS) {
      for (const alg of KEY_SPEC_TABLE[spec].algorithms['SIGN/VERIFY']) {
        const digest = await digestMessage(keys[spec].publicKey, alg, message);
        const sig = signDigest(keys[spec], alg, digest);
        const sigFile = join(dir, `${spec}-${alg}.sig`);
        writeFileSync(sigFile, sig);
        const viaFile = deskkms(['verify', '--public-key', join(dir, `${spec}.pem`), '--algorithm', alg, '--in', join(dir, 'msg.bin'), '--signature-file', sigFile]);
        expect(viaFile, `${spec} ${alg}`).toMatchObject({ status: 0, stdout: 'valid\n' });
        const viaDigest = deskkms(['verify', '--public-key', join(dir, `${spec}.der`), '--algorithm', alg, '--digest', encodeBase64(digest), '--signature', encodeBase64(sig)]);
        expect(viaDigest, `${spec} ${alg}`).toMatchObject({ status: 0, stdout: 'valid\n' });
      }
    }
  });

  it('exits 1 "invalid" for a signature over another message, or by another key', async () => {
    const digest = await digestMessage(keys.EC_SM2.publicKey, 'SM2DSA', message);
    const sig = signDigest(keys.EC_SM2, 'SM2DSA', digest);
    writeFileSync(join(dir, 'other.bin'), 'something else');
    const other = deskkms(['verify', '--public-key', join(dir, 'EC_SM2.pem'), '--algorithm', 'SM2DSA', '--in', join(dir, 'other.bin'), '--signature', encodeBase64(sig)]);
    expect(other).toMatchObject({ status: 1, stdout: 'invalid\n' });
    const rsaSig = signDigest(keys.RSA_3072, 'RSA_PKCS1_SHA_256', await digestMessage(keys.RSA_3072.publicKey, 'RSA_PKCS1_SHA_256', message));
    const wrongKey = deskkms(['verify', '--public-key', join(dir, 'RSA_3072.pem'), '--algorithm', 'RSA_PSS_SHA_256', '--in', join(dir, 'msg.bin'), '--signature', encodeBase64(rsaSig)]);
    expect(wrongKey).toMatchObject({ status: 1, stdout: 'invalid\n' });
  });

  it('exits 2 with {"Code","Message"} on stderr for bad input', () => {
    const cases: [string[], RegExp][] = [
      [['verify', '--algorithm', 'ECDSA_SHA_256'], /"Code":"MissingParameter".*--public-key/],
      [['verify', '--public-key', join(dir, 'nope.pem'), '--algorithm', 'ECDSA_SHA_256', '--digest', 'AA==', '--signature', 'AA=='], /--public-key: .*nope\.pem: no such file/],
      [['verify', '--public-key', dir, '--algorithm', 'ECDSA_SHA_256', '--digest', 'AA==', '--signature', 'AA=='], /is a directory/],
      [['verify', '--public-key', join(dir, 'EC_P256.pem'), '--algorithm', 'SM2DSA', '--digest', encodeBase64(new Uint8Array(32)), '--signature', 'AA=='], /SM2DSA is not valid for EC_P256/],
      [['verify', '--public-key', join(dir, 'EC_P256.pem'), '--algorithm', 'ECDSA_SHA_256', '--digest', 'not base64!', '--signature', 'AA=='], /--digest: is not valid base64/],
      [['verify', '--public-key', join(dir, 'EC_P256.pem'), '--algorithm', 'ECDSA_SHA_256', '--digest', 'AAAA', '--signature', 'AA=='], /Digest: must be the 32-byte SHA-256 digest/],
      [['verify', '--public-key', join(dir, 'EC_P256.pem'), '--algorithm', 'ECDSA_SHA_256', '--digest', encodeBase64(new Uint8Array(32)), '--signature', 'AAEC'], /not a DER-encoded signature/],
      [['verify', '--public-key', join(dir, 'EC_P256.pem'), '--algorithm', 'ECDSA_SHA_256', '--in', join(dir, 'msg.bin'), '--digest', 'AA==', '--signature', 'AA=='], /exactly one of --in FILE or --digest/],
      [['verify', '--public-key', join(dir, 'msg.bin'), '--algorithm', 'ECDSA_SHA_256', '--digest', 'AA==', '--signature', 'AA=='], /not a DER-encoded SubjectPublicKeyInfo/],
      [['verify', '--no-such-flag'], /Unknown option '--no-such-flag'/],
      [['frobnicate'], /unknown command "frobnicate"/],
    ];
    for (const [args, stderr] of cases) {
      const r = deskkms(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      const parsed = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { Code: string; Message: string };
      expect(Object.keys(parsed)).toEqual(['Code', 'Message']);
      expect(JSON.stringify(parsed).replaceAll('\\"', '"')).toMatch(stderr);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack traces
    }
  });

  it('reads the message from stdin with --in -', async () => {
    const digest = await digestMessage(keys.EC_P256K.publicKey, 'ECDSA_SHA_256', message);
    const sig = signDigest(keys.EC_P256K, 'ECDSA_SHA_256', digest);
    const r = deskkms(['verify', '--public-key', join(dir, 'EC_P256K.pem'), '--algorithm', 'ECDSA_SHA_256', '--in', '-', '--signature', encodeBase64(sig)], message);
    expect(r).toMatchObject({ status: 0, stdout: 'valid\n' });
  });
});

describe('deskkms digest', () => {
  it('prints SHA-256 for RSA and ECDSA algorithms, equal to openssl dgst', () => {
    const expected = execFileSync('openssl', ['dgst', '-sha256', '-binary', join(dir, 'msg.bin')]).toString('base64');
    for (const alg of ['RSA_PSS_SHA_256', 'RSA_PKCS1_SHA_256', 'ECDSA_SHA_256']) {
      expect(deskkms(['digest', '--algorithm', alg, '--in', join(dir, 'msg.bin')])).toMatchObject({ status: 0, stdout: `${expected}\n` });
    }
  });

  it('prints SM3(Z_A || M) for SM2DSA, and requires the public key for it', async () => {
    const expected = encodeBase64(await digestMessage(keys.EC_SM2.publicKey, 'SM2DSA', message));
    expect(deskkms(['digest', '--algorithm', 'SM2DSA', '--in', join(dir, 'msg.bin'), '--public-key', join(dir, 'EC_SM2.pem')])).toMatchObject({ status: 0, stdout: `${expected}\n` });
    const missing = deskkms(['digest', '--algorithm', 'SM2DSA', '--in', join(dir, 'msg.bin')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--public-key: is required for SM2DSA/);
    const wrongAlg = deskkms(['digest', '--algorithm', 'SM2PKE', '--in', join(dir, 'msg.bin')]);
    expect(wrongAlg.stderr).toMatch(/SM2PKE is not a signing algorithm/);
  });

  it('streams a file larger than 4 GiB (which readFile cannot hold) in bounded memory', () => {
    const big = join(dir, 'big.img');
    const size = 4 * 2 ** 30 + 12345;
    // Sparse: costs no disk, but every byte is read and hashed.
    execFileSync('truncate', ['-s', String(size), big]);
    const expected = execFileSync('openssl', ['dgst', '-sha256', '-binary', big]).toString('base64');
    const probe = `
      const { runCli } = await import(${JSON.stringify(resolve(import.meta.dirname, '../../core/hosts/cli/run.ts'))});
      let out = '';
      const stdout = { write: (s) => { out += s; return true; } };
      const code = await runCli(['digest', '--algorithm', 'ECDSA_SHA_256', '--in', ${JSON.stringify(big)}], { stdout, stderr: process.stderr, stdin: process.stdin, cwd: process.cwd(), env: process.env });
      process.stdout.write(JSON.stringify({ code, out, maxRssKiB: process.resourceUsage().maxRSS }));
    `;
    const result = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', timeout: 120_000 })) as { code: number; out: string; maxRssKiB: number };
    expect(result.code).toBe(0);
    expect(result.out).toBe(`${expected}\n`);
    expect(result.maxRssKiB).toBeLessThan(256 * 1024);
  }, 180_000);
});

describe('deskkms help', () => {
  it('lists every command, and each command\'s help lists every flag', async () => {
    // The binary itself for the main help, one command's help and no command at all...
    const main = deskkms(['--help']);
    expect(main.status).toBe(0);
    expect(deskkms(['verify', '--help']).stdout).toContain(SIGNING_ALGORITHMS.join(', '));
    expect(deskkms([]).status).toBe(2);
    // ...and every command's help through the same runCli in this process (a process per command
    // took a minute on a loaded 2-core machine, and grows with each command).
    for (const entry of COMMAND_INDEX) {
      const command = await entry.load();
      expect(command.name).toBe(entry.name);
      expect(main.stdout).toContain(`${entry.name}  `);
      let out = '';
      const io = {
        stdout: { write: (text: string) => ((out += text), true) },
        stderr: { write: () => true },
        stdin: process.stdin,
        cwd: dir,
        env: {},
      } as unknown as CliIO;
      expect(await runCli([command.name, '--help'], io), command.name).toBe(0);
      expect(out).toContain(`Usage: ${command.usage}`);
      for (const flag of Object.keys(command.flags)) expect(out, `${command.name} --${flag}`).toContain(`--${flag}`);
    }
  });

  it('prints the specs table as JSON', () => {
    const r = deskkms(['specs']);
    expect(r.status).toBe(0);
    const table = JSON.parse(r.stdout) as { KeySpecs: { KeySpec: string }[] };
    expect(table.KeySpecs.map((s) => s.KeySpec)).toEqual([...KEY_SPECS]);
    expect(r.stdout).toContain('"MaxPlaintextBytes": 6047');
  });
});
