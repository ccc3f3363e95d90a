// The OpenSSL 3 command line as an interop peer for the crypto engine, shared by the interop
// suites: running `openssl` (argument arrays only, never a shell string), a scratch directory,
// and the mapping from the contract's specs and algorithms to OpenSSL's options.
// Every mapping below is a Record over the contract's unions, so a new algorithm in
// core/contract/specs.ts does not typecheck here until it is given its OpenSSL spelling.
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  SM2_DEFAULT_ID,
  type AlgorithmInfo,
  type EncryptionAlgorithm,
  type KeySpecInfo,
  type SigningAlgorithm,
} from '../../core/contract/specs.ts';

/** The peer binary; OPENSSL in the environment overrides `openssl` from PATH. */
export const OPENSSL_BIN = process.env['OPENSSL'] ?? 'openssl';

const MAX_BUFFER = 64 * 1024 * 1024;

export interface OpensslResult {
  readonly args: readonly string[];
  /** Exit status; -1 when killed by a signal. */
  readonly status: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs openssl and reports whatever happened; throws only when the binary cannot be started. */
export function runOpenssl(args: readonly string[], options: { input?: Uint8Array } = {}): OpensslResult {
  const r = spawnSync(OPENSSL_BIN, args, {
    ...(options.input ? { input: options.input } : {}),
    maxBuffer: MAX_BUFFER,
    windowsHide: true,
  });
  if (r.error) throw new Error(`cannot run ${OPENSSL_BIN}: ${r.error.message}`);
  return { args, status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

/** Runs openssl asynchronously (for work worth doing in parallel, such as key generation). */
export function runOpensslAsync(args: readonly string[]): Promise<OpensslResult> {
  return new Promise((resolve, reject) => {
    execFile(OPENSSL_BIN, args, { encoding: 'buffer', maxBuffer: MAX_BUFFER, windowsHide: true }, (error, stdout, stderr) => {
      const code = error ? (error as NodeJS.ErrnoException & { code?: unknown }).code : 0;
      if (error && typeof code !== 'number') {
        reject(new Error(`cannot run ${OPENSSL_BIN}: ${error.message}`));
        return;
      }
      resolve({ args, status: typeof code === 'number' ? code : -1, stdout, stderr: stderr.toString('utf8') });
    });
  });
}

/** Throws, quoting the command and OpenSSL's stderr, unless the run exited 0. */
export function assertSucceeded(result: OpensslResult): Buffer {
  if (result.status !== 0) {
    throw new Error(`openssl ${result.args.join(' ')} exited ${result.status}:\n${result.stderr.trim()}`);
  }
  return result.stdout;
}

/** Runs openssl and returns its stdout; throws (with stderr) on a non-zero exit. */
export function openssl(args: readonly string[], options: { input?: Uint8Array } = {}): Buffer {
  return assertSucceeded(runOpenssl(args, options));
}

export async function opensslAsync(args: readonly string[]): Promise<Buffer> {
  return assertSucceeded(await runOpensslAsync(args));
}

/** `openssl version`, e.g. "OpenSSL 3.0.19 27 Jan 2026 (Library: ...)". */
export function opensslVersion(): string {
  return openssl(['version']).toString('utf8').trim();
}

/** A scratch directory under os.tmpdir(); every file gets a fresh name, so nothing is overwritten. */
export class TempDir {
  readonly dir: string;
  private counter = 0;

  constructor(prefix = 'deskkms-openssl-') {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  }

  /** A fresh path in the directory (not created). */
  path(label: string): string {
    this.counter += 1;
    return path.join(this.dir, `${String(this.counter).padStart(5, '0')}-${label}`);
  }

  /** Writes `data` to a fresh file and returns its path. */
  write(label: string, data: Uint8Array | string): string {
    const file = this.path(label);
    fs.writeFileSync(file, data, { mode: 0o600 });
    return file;
  }

  read(file: string): Uint8Array {
    return new Uint8Array(fs.readFileSync(file));
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A copy of `bytes` with the byte at `index` (negative counts from the end) XOR-ed with `mask`. */
export function flipByte(bytes: Uint8Array, index: number, mask = 0x01): Uint8Array {
  const copy = Uint8Array.from(bytes);
  const i = index < 0 ? copy.length + index : index;
  if (i < 0 || i >= copy.length) throw new RangeError(`byte ${index} is outside ${copy.length} bytes`);
  copy[i] = copy[i]! ^ mask;
  return copy;
}

/** OpenSSL's name for a contract hash. */
export const OPENSSL_DIGEST: Readonly<Record<AlgorithmInfo['hash'], string>> = {
  'SHA-256': 'sha256',
  'SHA-1': 'sha1',
  SM3: 'sm3',
};

export interface OpensslSigning {
  /** The `openssl dgst -<name>` digest. */
  readonly digest: string;
  /** `-sigopt` values for `openssl dgst -sign/-verify` over the message. */
  readonly dgstOptions: readonly string[];
  /** `-pkeyopt` values for `openssl pkeyutl -sign/-verify` over the Digest. */
  readonly pkeyutlOptions: readonly string[];
}

const PSS = ['rsa_padding_mode:pss', 'rsa_pss_saltlen:32'];

export const OPENSSL_SIGNING: Readonly<Record<SigningAlgorithm, OpensslSigning>> = {
  RSA_PSS_SHA_256: { digest: 'sha256', dgstOptions: PSS, pkeyutlOptions: ['digest:sha256', ...PSS] },
  RSA_PKCS1_SHA_256: { digest: 'sha256', dgstOptions: [], pkeyutlOptions: ['digest:sha256'] },
  ECDSA_SHA_256: { digest: 'sha256', dgstOptions: [], pkeyutlOptions: ['digest:sha256'] },
  // pkeyutl verifies SM2's e = SM3(Z_A || M) as given: no digest and no ID apply there
  // (OpenSSL 3.0's pkeyutl refuses `-pkeyopt distid:...`: "Can't set parameter").
  SM2DSA: { digest: 'sm3', dgstOptions: [`distid:${SM2_DEFAULT_ID}`], pkeyutlOptions: [] },
};

/** `-pkeyopt` values for `openssl pkeyutl -encrypt/-decrypt`. */
export const OPENSSL_ENCRYPTION: Readonly<Record<EncryptionAlgorithm, readonly string[]>> = {
  RSAES_OAEP_SHA_256: ['rsa_padding_mode:oaep', 'rsa_oaep_md:sha256', 'rsa_mgf1_md:sha256'],
  RSAES_OAEP_SHA_1: ['rsa_padding_mode:oaep', 'rsa_oaep_md:sha1', 'rsa_mgf1_md:sha1'],
  // OpenSSL 3 encrypts with SM3 and writes GM/T 0009 ASN.1 by default.
  SM2PKE: [],
};

/** Repeats `flag` before each value: (['a', 'b'], '-sigopt') -> ['-sigopt', 'a', '-sigopt', 'b']. */
export function repeatFlag(flag: string, values: readonly string[]): string[] {
  return values.flatMap((value) => [flag, value]);
}

/** `openssl dgst` arguments that sign (`-sign key`) or verify (`-verify pub -signature sig`) a message file. */
export function dgstArgs(
  algorithm: SigningAlgorithm,
  mode: { sign: string; out: string } | { verify: string; signature: string },
  messageFile: string,
): string[] {
  const s = OPENSSL_SIGNING[algorithm];
  const head = 'sign' in mode ? ['-sign', mode.sign, '-out', mode.out] : ['-verify', mode.verify, '-signature', mode.signature];
  return ['dgst', `-${s.digest}`, ...head, ...repeatFlag('-sigopt', s.dgstOptions), messageFile];
}

/** `openssl pkeyutl -verify` arguments for a signature over a 32-byte Digest file. */
export function pkeyutlVerifyArgs(algorithm: SigningAlgorithm, publicPem: string, digestFile: string, signatureFile: string): string[] {
  return [
    'pkeyutl', '-verify', '-pubin', '-inkey', publicPem, '-in', digestFile, '-sigfile', signatureFile,
    ...repeatFlag('-pkeyopt', OPENSSL_SIGNING[algorithm].pkeyutlOptions),
  ];
}

export function pkeyutlEncryptArgs(algorithm: EncryptionAlgorithm, publicPem: string, inFile: string, outFile: string): string[] {
  return ['pkeyutl', '-encrypt', '-pubin', '-inkey', publicPem, '-in', inFile, '-out', outFile, ...repeatFlag('-pkeyopt', OPENSSL_ENCRYPTION[algorithm])];
}

export function pkeyutlDecryptArgs(algorithm: EncryptionAlgorithm, privatePem: string, inFile: string, outFile: string): string[] {
  return ['pkeyutl', '-decrypt', '-inkey', privatePem, '-in', inFile, '-out', outFile, ...repeatFlag('-pkeyopt', OPENSSL_ENCRYPTION[algorithm])];
}

const OPENSSL_EC_CURVE: Readonly<Record<'P-256' | 'secp256k1', string>> = { 'P-256': 'P-256', secp256k1: 'secp256k1' };

/** `openssl genpkey` options making a key of `info`'s spec; throws for a spec with no known mapping. */
export function genpkeyArgs(info: KeySpecInfo): string[] {
  if (info.family === 'RSA') return ['-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${info.bits}`];
  if (info.family === 'SM2') return ['-algorithm', 'SM2'];
  if (info.family === 'EC' && (info.curve === 'P-256' || info.curve === 'secp256k1')) {
    return ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${OPENSSL_EC_CURVE[info.curve]}`];
  }
  throw new Error(`no openssl genpkey mapping for ${info.spec} (${info.family}, curve ${info.curve ?? 'none'})`);
}
