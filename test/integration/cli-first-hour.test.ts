// What a new user meets in the deskkms CLI in the first hour (issue 17), run as they run it: the
// binary as a child process under the pinned Node, a passphrase vault in a temporary directory.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACTION_NAMES, ACTION_SCHEMAS } from '../../core/contract/actions.ts';
import { encodeBase64 } from '../../core/contract/base64.ts';
import { generateKey, publicKeyPem, signDigest, digestMessage } from '../../core/crypto/engine.ts';
import { importPublicKey } from '../../core/crypto/public-key.ts';
import { ACTION_EXAMPLES } from '../../core/hosts/cli/action-examples.ts';
import { checkActionParams, parseActionArgs } from '../../core/hosts/cli/actions-cli.ts';
import { rawSignatureOf } from '../../core/hosts/cli/commands/verify.ts';
import { HANDLER_MODULES } from '../support/action-files.ts';
import { loadedModules, moduleLoadHook } from '../support/module-loads.ts';

// Each vault command pays a scrypt unlock in a new process: minutes on a loaded 2-core machine.
vi.setConfig({ testTimeout: 600_000, hookTimeout: 300_000 });

const BIN = resolve(import.meta.dirname, '../../core/hosts/cli/deskkms.ts');

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function deskkms(args: readonly string[], input?: string | Uint8Array, nodeArgs: readonly string[] = []): Run {
  const r = spawnSync(process.execPath, [...nodeArgs, BIN, ...args], {
    input,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: dir },
    maxBuffer: 16 << 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The {"Code","Message"} line a failure prints last on stderr. */
function failure(run: Run): { Code: string; Message: string } {
  const last = run.stderr.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as { Code: string; Message: string };
}

let dir: string;
let vault: string;
let pw: string;
const PASSPHRASE = 'first hour passphrase\n';

function inVault(args: readonly string[], input?: string): Run {
  return deskkms([...args, '--vault', vault, '--passphrase-file', pw], input);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'deskkms-first-hour-'));
  vault = join(dir, 'vault');
  pw = join(dir, 'pw');
  writeFileSync(pw, PASSPHRASE);
  // The passphrase from stdin ('-'), as a script piping it from a password manager does.
  const init = deskkms(['init', '--vault', vault, '--passphrase-file', '-'], PASSPHRASE);
  expect(init.status, init.stderr).toBe(0);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('help starts without loading what it does not print', () => {
  // A module-load hook lists every file the process loads (on stderr, before the help).
  const loads = (args: string[]): string[] => {
    const run = deskkms(args, undefined, ['--import', moduleLoadHook(dir)]);
    expect(run.status, run.stderr).toBe(0);
    return loadedModules(run.stderr);
  };

  it('deskkms --help loads no command module, no vault, no request schemas', () => {
    const loaded = loads(['--help']);
    expect(loaded.some((f) => f.endsWith('/core/hosts/cli/run.ts'))).toBe(true);
    expect(loaded.filter((f) => f.includes('/hosts/cli/commands/') || f.includes('/core/vault/') || f.includes('/node_modules/') || f.includes('/core/crypto/'))).toEqual([]);
  });

  it('a command\'s help loads that command only; an Action\'s help loads the schemas but no vault', () => {
    const digest = loads(['digest', '--help']);
    expect(digest.filter((f) => f.includes('/hosts/cli/commands/'))).toEqual(['/core/hosts/cli/commands/digest.ts']);
    expect(digest.filter((f) => f.includes('/core/vault/'))).toEqual([]);
    const sign = loads(['AsymmetricSign', '--help']);
    expect(sign.some((f) => f.endsWith('/core/contract/actions.ts'))).toBe(true);
    expect(sign.filter((f) => f.includes('/core/vault/') || f.includes('/hosts/cli/commands/') || f.includes('/core/actions/'))).toEqual([]);
  });
});

describe('a command loads the handlers of the Actions it runs, no others (core/actions/table.ts)', () => {
  it('a batch of ListKeys and DescribeKey loads those two handlers of the 63', () => {
    const run = deskkms(['batch', '--vault', vault, '--passphrase-file', pw], '{"Action":"ListKeys"}\n{"Action":"DescribeKey","KeyId":"alias/none"}\n', ['--import', moduleLoadHook(dir)]);
    expect(run.status, run.stderr).toBe(1); // the second line is refused (no such alias): still a call
    expect(run.stdout).toContain('"Keys"');
    expect(loadedModules(run.stderr).filter((f) => HANDLER_MODULES.has(f))).toEqual(['/core/actions/list-keys.ts', '/core/actions/describe-key.ts']);
  });
});

describe('typos are named, usage errors exit 2, vault and call failures 1', () => {
  it('an unknown Action parameter names the flag and the nearest one, before the vault is opened', () => {
    const typo = deskkms(['AsymmetricSign', '--KeyId', 'alias/x', '--KeyVersion', 'x', '--Algorithm', 'ECDSA_SHA_256', '--Digest', 'AA==', '--vault', join(dir, 'none')]);
    expect(typo.status).toBe(2);
    expect(failure(typo)).toEqual({ Code: 'InvalidParameter', Message: expect.stringContaining('--KeyVersion is not a parameter of AsymmetricSign (did you mean --KeyVersionId?)') as unknown });
    const wrongCase = deskkms(['CreateKey', '--keyspec', 'EC_P256', '--vault', join(dir, 'none')]);
    expect(wrongCase.status).toBe(2);
    expect(failure(wrongCase).Message).toContain('--keyspec is not a parameter of CreateKey (did you mean --KeySpec?)');
    const missing = deskkms(['AsymmetricSign', '--KeyId', 'alias/x', '--vault', join(dir, 'none')]);
    expect(missing.status).toBe(2);
    expect(failure(missing)).toMatchObject({ Code: 'MissingParameter', Message: expect.stringContaining('--KeyVersionId is required') as unknown });
  });

  it('an unknown command flag or command names the nearest', () => {
    const flag = deskkms(['digest', '--algo', 'ECDSA_SHA_256', '--in', pw]);
    expect(flag.status).toBe(2);
    expect(failure(flag).Message).toContain("Unknown option '--algo' (did you mean --algorithm?)");
    const command = deskkms(['AsymetricSign']);
    expect(command.status).toBe(2);
    expect(failure(command).Message).toContain('(did you mean "AsymmetricSign"?)');
  });

  it('a corrupt vault exits 1 (Vault.Corrupt), from a command and from an Action; an unreadable passphrase file exits 2', () => {
    const corrupt = join(dir, 'corrupt');
    expect(deskkms(['init', '--vault', corrupt, '--passphrase-file', pw]).status).toBe(0);
    writeFileSync(join(corrupt, 'vault.db'), 'not a database at all');
    for (const args of [['status'], ['ListKeys'], ['audit', 'list']]) {
      const run = deskkms([...args, '--vault', corrupt, '--passphrase-file', pw]);
      expect(run.status, args.join(' ')).toBe(1);
      expect(failure(run).Code).toBe('Vault.Corrupt');
    }
    const noFile = deskkms(['ListKeys', '--vault', vault, '--passphrase-file', join(dir, 'no-such-file')]);
    expect(noFile.status).toBe(2);
    expect(failure(noFile).Message).toContain('no such file');
  });

  it('a refused Action exits 1 with its RequestId; --Exportable yes says what is valid', () => {
    const refused = inVault(['CreateKey', '--KeySpec', 'EC_P256', '--Exportable', 'yes']);
    expect(refused.status).toBe(1);
    expect(failure(refused)).toMatchObject({ Code: 'InvalidParameter', Message: 'Exportable: must be true or false' });
    expect(JSON.parse(refused.stderr.trim())).toHaveProperty('RequestId');
  });
});

describe('help that teaches', () => {
  it('AsymmetricSign --help lists valid algorithms with their key specs, what a Digest is and how to make one, and an example', () => {
    const help = deskkms(['AsymmetricSign', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('ECDSA_SHA_256 (EC_P256, EC_P256K)');
    expect(help.stdout).toContain('SM2DSA (EC_SM2)');
    expect(help.stdout).toContain('deskkms digest --algorithm ALG --in FILE');
    expect(help.stdout).toContain('--DryRun        optional; true or false; default false');
    expect(help.stdout).toContain(`Example:\n  deskkms ${ACTION_EXAMPLES.AsymmetricSign}`);
    expect(deskkms(['CreateKey', '--help']).stdout).toContain('one of RSA_2048, RSA_3072, RSA_4096, EC_P256, EC_P256K, EC_SM2');
  });

  it('every Action has an example, and every example parses under its Action\'s schema', () => {
    expect(Object.keys(ACTION_EXAMPLES).sort()).toEqual([...ACTION_NAMES].sort());
    for (const action of ACTION_NAMES) {
      const [name, ...argv] = shellWords(ACTION_EXAMPLES[action]);
      expect(name).toBe(action);
      const { params } = parseActionArgs(argv);
      checkActionParams(action, params);
      const parsed = ACTION_SCHEMAS[action].safeParse(params);
      expect(parsed.success, `${action}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
  });
});

/** The words of an example line as a POSIX shell splits it (quotes; no escapes or expansions needed). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3]!);
  return words;
}

describe('the first signature', () => {
  it('CreateKey answers the first KeyVersionId, which AsymmetricSign takes at once; an EXTERNAL key has none yet', () => {
    const created = inVault(['CreateKey', '--KeySpec', 'EC_P256']);
    expect(created.status, created.stderr).toBe(0);
    const body = JSON.parse(created.stdout) as { KeyMetadata: { KeyId: string; PrimaryKeyVersion: string }; KeyVersionId: string };
    expect(body.KeyMetadata.PrimaryKeyVersion).toBe('');
    expect(body.KeyVersionId).toMatch(/^[0-9a-f-]{36}$/);
    const digest = deskkms(['digest', '--algorithm', 'ECDSA_SHA_256', '--in', pw]).stdout.trim();
    const signed = inVault(['AsymmetricSign', '--KeyId', body.KeyMetadata.KeyId, '--KeyVersionId', body.KeyVersionId, '--Algorithm', 'ECDSA_SHA_256', '--Digest', digest]);
    expect(signed.status, signed.stderr).toBe(0);
    const external = JSON.parse(inVault(['CreateKey', '--KeySpec', 'EC_P256', '--Origin', 'EXTERNAL']).stdout) as object;
    expect(external).not.toHaveProperty('KeyVersionId');
  });

  it('signing with an ENCRYPT/DECRYPT key says how to create a signing key; a disabled key how to enable it (CLI and app)', () => {
    const created = JSON.parse(inVault(['CreateKey', '--KeySpec', 'EC_SM2']).stdout) as { KeyMetadata: { KeyId: string }; KeyVersionId: string };
    const keyId = created.KeyMetadata.KeyId;
    const sign = ['AsymmetricSign', '--KeyId', keyId, '--KeyVersionId', created.KeyVersionId, '--Algorithm', 'SM2DSA', '--Digest', encodeBase64(new Uint8Array(32))];
    const wrongUsage = inVault(sign);
    expect(wrongUsage.status).toBe(1);
    expect(failure(wrongUsage)).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('SM2DSA is not valid for EC_SM2 keys with usage ENCRYPT/DECRYPT') as unknown });
    expect(failure(wrongUsage).Message).toContain('create a signing key with CreateKey --KeySpec EC_SM2 --KeyUsage SIGN/VERIFY');
    expect(inVault(['DisableKey', '--KeyId', keyId]).status).toBe(0);
    const disabled = inVault(['AsymmetricEncrypt', '--KeyId', keyId, '--KeyVersionId', created.KeyVersionId, '--Algorithm', 'SM2PKE', '--Plaintext', 'aGk=']);
    expect(disabled.status).toBe(1);
    expect(failure(disabled)).toMatchObject({ Code: 'Rejected.Disabled' });
    expect(failure(disabled).Message).toContain(`deskkms EnableKey --KeyId ${keyId}`);
    expect(failure(disabled).Message).toContain('"Enable key" in the app');
  });
});

describe("'-' reads stdin", () => {
  it('for the passphrase file of an Action, and for a file flag; two readers of stdin are a usage error', () => {
    const listed = deskkms(['ListKeys', '--vault', vault, '--passphrase-file', '-'], PASSPHRASE);
    expect(listed.status, listed.stderr).toBe(0);
    const digest = deskkms(['digest', '--algorithm', 'ECDSA_SHA_256', '--in', '-'], PASSPHRASE);
    expect(digest.stdout.trim()).toBe(deskkms(['digest', '--algorithm', 'ECDSA_SHA_256', '--in', pw]).stdout.trim());
    const twice = deskkms(['verify', '--signature-file', '-', '--public-key', '-', '--in', pw], 'x');
    expect(twice.status).toBe(2);
    expect(failure(twice).Message).toBe("--public-key: '-' reads stdin, which --signature-file already reads; only one input can come from stdin (give the other as a file)");
    const batch = deskkms(['batch', '--vault', vault, '--passphrase-file', '-'], '{"Action":"ListKeys"}\n');
    expect(batch.status).toBe(2);
    expect(failure(batch).Message).toContain('--passphrase-file');
  });

  it('batch answers a one-line ListKeys', () => {
    const batch = inVault(['batch'], '{"Action":"ListKeys"}\n');
    expect(batch.status, batch.stderr).toBe(0);
    expect(JSON.parse(batch.stdout)).toHaveProperty('Keys');
  });
});

describe('verify --signature-file takes raw bytes or the base64 text the app saves', () => {
  it('verifies both forms for RSA and ECDSA', async () => {
    for (const [spec, algorithm] of [['EC_P256', 'ECDSA_SHA_256'], ['RSA_2048', 'RSA_PSS_SHA_256']] as const) {
      const key = await generateKey(spec);
      const message = new TextEncoder().encode(`release ${spec}\n`);
      const signature = signDigest(key, algorithm, await digestMessage(key.publicKey, algorithm, message));
      writeFileSync(join(dir, 'msg'), message);
      writeFileSync(join(dir, `${spec}.pem`), publicKeyPem(key.publicKey));
      writeFileSync(join(dir, 'sig.raw'), signature);
      writeFileSync(join(dir, 'sig.b64'), `${encodeBase64(signature)}\n`);
      for (const file of ['sig.raw', 'sig.b64']) {
        const run = deskkms(['verify', '--public-key', join(dir, `${spec}.pem`), '--algorithm', algorithm, '--in', join(dir, 'msg'), '--signature-file', join(dir, file)]);
        expect(run.stdout, `${spec} ${file}: ${run.stderr}`).toBe('valid\n');
      }
      const b64 = readFileSync(join(dir, 'sig.b64'));
      expect(rawSignatureOf(b64, importPublicKey(publicKeyPem(key.publicKey), 'k'))).toEqual(signature);
    }
  });

  it('never reads a raw signature that happens to be base64 text as base64', async () => {
    const rsa = importPublicKey(publicKeyPem((await generateKey('RSA_2048')).publicKey), 'k');
    // 256 bytes (the RSA-2048 signature length) all of them base64 letters: raw, as given.
    const asciiRaw = new TextEncoder().encode('A'.repeat(256));
    expect(rawSignatureOf(asciiRaw, rsa)).toBe(asciiRaw);
    const ec = importPublicKey(publicKeyPem((await generateKey('EC_P256')).publicKey), 'k');
    // Base64 text that does not decode to a DER SEQUENCE of its own length stays as given.
    const notDer = new TextEncoder().encode(`${encodeBase64(new Uint8Array(70).fill(0x41))}\n`);
    expect(rawSignatureOf(notDer, ec)).toBe(notDer);
  });
});

describe('deskkms audit list filters and exports', () => {
  it('--kind, --caller and --search narrow the list; --format csv|jsonl export it; -o writes a file once (again with --force)', () => {
    // The vault's log so far holds a refused CreateKey (--Exportable yes, above) and successful calls.
    const refused = inVault(['audit', 'list', '--kind', 'refused', '--format', 'jsonl']);
    expect(refused.status, refused.stderr).toBe(0);
    const lines = refused.stdout.trim().split('\n').map((l) => JSON.parse(l) as { action: string; code: string; caller: string });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((e) => e.code !== 'OK')).toBe(true);
    expect(lines.some((e) => e.action === 'CreateKey' && e.code === 'InvalidParameter')).toBe(true);
    const csv = inVault(['audit', 'list', '--search', 'createkey', '--caller', 'cli', '--format', 'csv']);
    expect(csv.status, csv.stderr).toBe(0);
    const [header, ...rows] = csv.stdout.trim().split(/\r?\n/);
    expect(header).toBe('seq,time,action,keyId,keyVersionId,code,caller,requestId,prevHash,hash');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.includes(',"CreateKey",') && row.includes(',"cli",'))).toBe(true);
    const out = join(dir, 'audit.csv');
    const written = inVault(['audit', 'list', '--format', 'csv', '-o', out]);
    expect(written.status, written.stderr).toBe(0);
    expect(readFileSync(out, 'utf8').split(/\r?\n/)[0]).toBe(header);
    const again = deskkms(['audit', 'list', '--format', 'csv', '-o', out, '--vault', join(dir, 'none')]);
    expect(again.status).toBe(2);
    expect(failure(again).Message).toContain('already exists; give --force');
    expect(inVault(['audit', 'list', '--format', 'csv', '-o', out, '--force']).status).toBe(0);
    const badKind = deskkms(['audit', 'list', '--kind', 'reads', '--vault', join(dir, 'none')]);
    expect(badKind.status).toBe(2);
    expect(failure(badKind).Message).toBe('--kind: must be one of change, private-key, read, refused');
  });
});
