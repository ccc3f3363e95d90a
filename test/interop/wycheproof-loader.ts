// Typed reader for the Wycheproof vector files in test/vectors/wycheproof/ (see the README there),
// plus the small helpers the interop test needs: hex decoding, SHA digests of a vector's message,
// and a classifier that turns "call the engine" into one comparable outcome.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KmsError } from '../../core/contract/errors.ts';

export const VECTOR_DIR = fileURLToPath(new URL('../vectors/wycheproof/', import.meta.url));

export type WycheproofResult = 'valid' | 'invalid' | 'acceptable';

export interface WycheproofTest {
  readonly tcId: number;
  readonly comment: string;
  readonly flags: readonly string[];
  readonly result: WycheproofResult;
}

export interface SignatureTest extends WycheproofTest {
  readonly msg: string;
  readonly sig: string;
}

export interface OaepTest extends WycheproofTest {
  readonly msg: string;
  readonly ct: string;
  readonly label: string;
}

export interface WycheproofGroup<T extends WycheproofTest> {
  readonly type: string;
  readonly tests: readonly T[];
}

/** ecdsa_verify_schema_v1.json and ecdsa_p1363_verify_schema_v1.json */
export interface EcdsaVerifyGroup extends WycheproofGroup<SignatureTest> {
  readonly publicKeyDer: string;
  readonly sha: string;
  readonly publicKey: { readonly curve: string; readonly keySize: number };
}

/** rsassa_pkcs1_verify_schema_v1.json */
export interface RsaPkcs1VerifyGroup extends WycheproofGroup<SignatureTest> {
  readonly publicKeyDer: string;
  readonly sha: string;
  readonly keySize: number;
}

/** rsassa_pkcs1_generate_schema_v1.json; keyDer is the public key's SubjectPublicKeyInfo. */
export interface RsaPkcs1GenerateGroup extends WycheproofGroup<SignatureTest> {
  readonly keyDer: string;
  readonly privateKeyPkcs8: string;
  readonly sha: string;
  readonly keySize: number;
}

/** rsassa_pss_verify_schema_v1.json */
export interface RsaPssVerifyGroup extends WycheproofGroup<SignatureTest> {
  readonly publicKeyDer: string;
  readonly sha: string;
  readonly mgf: string;
  readonly mgfSha: string;
  readonly sLen: number;
  readonly keySize: number;
}

/** rsaes_oaep_decrypt_schema_v1.json */
export interface RsaOaepDecryptGroup extends WycheproofGroup<OaepTest> {
  readonly privateKeyPkcs8: string;
  readonly sha: string;
  readonly mgf: string;
  readonly mgfSha: string;
  readonly keySize: number;
}

export interface WycheproofFile<G extends WycheproofGroup<WycheproofTest>> {
  readonly file: string;
  readonly algorithm: string;
  readonly schema: string;
  readonly numberOfTests: number;
  readonly notes: Readonly<Record<string, unknown>>;
  readonly testGroups: readonly G[];
}

const RESULTS: readonly string[] = ['valid', 'invalid', 'acceptable'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(file: string, where: string, what: string): never {
  throw new Error(`${file}: ${where}: ${what}`);
}

/**
 * Reads one vector file and checks the shape the test relies on: the schema named in the file, a
 * numberOfTests, every group a `tests` array, every test a numeric tcId, flags and a known result,
 * and each field in `testFields` / `groupFields` a string. Anything else is an error, not a skip.
 */
export function loadWycheproof<G extends WycheproofGroup<WycheproofTest>>(
  file: string,
  schema: string,
  groupFields: readonly string[],
  testFields: readonly string[],
): WycheproofFile<G> {
  const raw: unknown = JSON.parse(readFileSync(join(VECTOR_DIR, file), 'utf8'));
  if (!isRecord(raw)) fail(file, 'top level', 'not an object');
  if (raw['schema'] !== schema) fail(file, 'schema', `expected ${schema}, got ${String(raw['schema'])}`);
  if (typeof raw['numberOfTests'] !== 'number') fail(file, 'numberOfTests', 'missing');
  const groups = raw['testGroups'];
  if (!Array.isArray(groups) || groups.length === 0) fail(file, 'testGroups', 'missing or empty');
  groups.forEach((group: unknown, gi: number) => {
    if (!isRecord(group)) fail(file, `group ${gi}`, 'not an object');
    for (const field of groupFields) {
      if (typeof group[field] !== 'string') fail(file, `group ${gi}`, `field ${field} is not a string`);
    }
    const tests = group['tests'];
    if (!Array.isArray(tests)) fail(file, `group ${gi}`, 'tests is not an array');
    tests.forEach((test: unknown, ti: number) => {
      if (!isRecord(test)) fail(file, `group ${gi} test ${ti}`, 'not an object');
      if (typeof test['tcId'] !== 'number') fail(file, `group ${gi} test ${ti}`, 'tcId is not a number');
      if (!Array.isArray(test['flags'])) fail(file, `tcId ${test['tcId']}`, 'flags is not an array');
      if (typeof test['result'] !== 'string' || !RESULTS.includes(test['result'])) {
        fail(file, `tcId ${test['tcId']}`, `unknown result ${String(test['result'])}`);
      }
      for (const field of testFields) {
        if (typeof test[field] !== 'string') fail(file, `tcId ${test['tcId']}`, `field ${field} is not a string`);
      }
    });
  });
  return { ...(raw as unknown as Omit<WycheproofFile<G>, 'file'>), file };
}

/** Number of test vectors actually present in the file (all groups). */
export function countTests(file: WycheproofFile<WycheproofGroup<WycheproofTest>>): number {
  return file.testGroups.reduce((n, g) => n + g.tests.length, 0);
}

/** Strict hex decoding into a fresh Uint8Array (its own buffer, byteOffset 0). */
export function hex(text: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new Error(`not an even-length hex string: ${text.slice(0, 40)}`);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Wycheproof's hash names ("SHA-256") as node:crypto names ("sha256"). */
export function nodeHashName(sha: string): string {
  const m = /^SHA-(1|224|256|384|512)$/.exec(sha);
  if (!m) throw new Error(`unsupported hash name ${sha}`);
  return `sha${m[1]}`;
}

export function digestOf(sha: string, msg: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(nodeHashName(sha)).update(msg).digest());
}

export function sha256(msg: Uint8Array): Uint8Array {
  return digestOf('SHA-256', msg);
}

/** What an engine call did: returned a value, refused with KmsError InvalidParameter, or anything else. */
export type Outcome<T> =
  | { readonly kind: 'returned'; readonly value: T }
  | { readonly kind: 'rejected'; readonly message: string }
  | { readonly kind: 'error'; readonly description: string };

export function outcomeOf<T>(call: () => T): Outcome<T> {
  try {
    return { kind: 'returned', value: call() };
  } catch (err: unknown) {
    if (err instanceof KmsError && err.code === 'InvalidParameter') return { kind: 'rejected', message: err.message };
    if (err instanceof KmsError) return { kind: 'error', description: `KmsError ${err.code}: ${err.message}` };
    if (err instanceof Error) return { kind: 'error', description: `${err.name}: ${err.message}` };
    return { kind: 'error', description: `non-Error thrown: ${String(err)}` };
  }
}

export function describeOutcome(outcome: Outcome<unknown>): string {
  switch (outcome.kind) {
    case 'returned':
      return outcome.value instanceof Uint8Array ? `returned ${outcome.value.length} bytes` : `returned ${String(outcome.value)}`;
    case 'rejected':
      return `threw InvalidParameter (${outcome.message})`;
    case 'error':
      return `threw ${outcome.description}`;
  }
}
