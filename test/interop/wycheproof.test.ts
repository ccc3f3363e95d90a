// The crypto engine against Google's Wycheproof vectors (test/vectors/wycheproof/, Apache-2.0; the
// README there lists the files and the decision taken for every "acceptable" category).
//
// Every vector of every group is run; each file's test fails if the number of vectors checked is not
// the file's numberOfTests, so a group that is skipped (or a file that grows) cannot pass silently.
// Mismatches are collected with their tcId and reported by one expect per file.
//
// Expected engine behaviour:
//   valid      -> verify returns true / decrypt returns msg / our PKCS#1 signature equals theirs.
//   invalid    -> verify returns false or throws KmsError InvalidParameter; decrypt throws KmsError
//                 InvalidParameter. Never true, never any other exception (TypeError, RangeError, ...).
//   acceptable -> one exact outcome per category (flag), decided in ACCEPTABLE_* below.
import { createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decrypt, importPrivateKey, importPublicKey, signDigest, verifyDigest, type PublicKey } from '../../core/crypto/engine.ts';
import { EcdsaPublicKey } from '../../core/crypto/ecdsa.ts';
import { rsaOaepDecrypt } from '../../core/crypto/rsa.ts';
import type { EncryptionAlgorithm, KeySpec, SigningAlgorithm } from '../../core/contract/specs.ts';
import {
  countTests,
  describeOutcome,
  digestOf,
  hex,
  loadWycheproof,
  outcomeOf,
  sha256,
  toHex,
  type EcdsaVerifyGroup,
  type Outcome,
  type RsaOaepDecryptGroup,
  type RsaPkcs1GenerateGroup,
  type RsaPkcs1VerifyGroup,
  type RsaPssVerifyGroup,
  type WycheproofFile,
  type WycheproofGroup,
  type WycheproofResult,
  type WycheproofTest,
} from './wycheproof-loader.ts';

/** The exact outcome we assert for a verification. */
type VerifyDecision = 'true' | 'false' | 'rejected';

/**
 * Decisions for "acceptable" verification vectors, by flag. A file whose acceptable vectors carry no
 * flag listed here fails: a new category needs a deliberate decision (and a README entry).
 */
const ACCEPTABLE_RSA_PKCS1_VERIFY: Readonly<Record<string, VerifyDecision>> = {
  // DigestInfo without the NULL parameters: our policy requires the exact DER DigestInfo.
  MissingNull: 'false',
};
const ACCEPTABLE_NONE: Readonly<Record<string, VerifyDecision>> = {};

/** Running count of one file's vectors and of everything that did not go as expected. */
class Tally {
  readonly failures: string[] = [];
  readonly byResult: Record<WycheproofResult, number> = { valid: 0, invalid: 0, acceptable: 0 };
  readonly outcomes: Record<string, number> = {};
  private readonly seen = new Set<number>();
  private readonly file: WycheproofFile<WycheproofGroup<WycheproofTest>>;

  constructor(file: WycheproofFile<WycheproofGroup<WycheproofTest>>) {
    this.file = file;
  }

  /** Counts a vector as checked (a repeated tcId is a failure) under "result -> outcome". */
  private count(test: WycheproofTest, outcomeLabel: string): void {
    if (this.seen.has(test.tcId)) this.failures.push(`tcId ${test.tcId}: checked twice`);
    this.seen.add(test.tcId);
    this.byResult[test.result]++;
    const key = `${test.result} -> ${outcomeLabel}`;
    this.outcomes[key] = (this.outcomes[key] ?? 0) + 1;
  }

  ok(test: WycheproofTest, outcomeLabel: string): void {
    this.count(test, outcomeLabel);
  }

  fail(test: WycheproofTest, why: string): void {
    this.count(test, 'MISMATCH');
    this.failures.push(`tcId ${test.tcId} (${test.result}; ${test.flags.join(',') || 'no flags'}; ${test.comment || 'no comment'}): ${why}`);
  }

  /** A failure not tied to one vector (a group-level check). */
  note(why: string): void {
    this.failures.push(why);
  }

  /** The one place a file's test passes or fails. */
  assertComplete(): void {
    if (process.env['WYCHEPROOF_SUMMARY']) {
      console.info(`${this.file.file}: ${JSON.stringify(this.byResult)} ${JSON.stringify(this.outcomes)}`);
    }
    expect(this.failures, `${this.file.file}: ${this.failures.length} mismatching vector(s)`).toEqual([]);
    expect(countTests(this.file), `${this.file.file}: vectors present vs numberOfTests`).toBe(this.file.numberOfTests);
    expect(this.seen.size, `${this.file.file}: vectors checked vs numberOfTests`).toBe(this.file.numberOfTests);
  }
}

function outcomeLabel(outcome: Outcome<unknown>): string {
  if (outcome.kind === 'returned') return typeof outcome.value === 'boolean' ? String(outcome.value) : 'returned';
  return outcome.kind;
}

/** The decision for an acceptable vector, from its flags; undefined when none or conflicting. */
function acceptableDecision<D>(test: WycheproofTest, table: Readonly<Record<string, D>>): D | undefined {
  const decisions = new Set(test.flags.filter((f) => Object.hasOwn(table, f)).map((f) => table[f]));
  return decisions.size === 1 ? [...decisions][0] : undefined;
}

/** Checks a verification outcome (boolean or InvalidParameter) against the vector's result. */
function checkVerify(
  tally: Tally,
  test: WycheproofTest,
  outcome: Outcome<boolean>,
  acceptable: Readonly<Record<string, VerifyDecision>>,
): void {
  if (outcome.kind === 'error') return tally.fail(test, `unexpected exception: ${outcome.description}`);
  if (outcome.kind === 'returned' && typeof outcome.value !== 'boolean') {
    return tally.fail(test, `verify returned a non-boolean ${String(outcome.value)}`);
  }
  const got = outcomeLabel(outcome) as VerifyDecision;
  if (test.result === 'valid') {
    return got === 'true' ? tally.ok(test, got) : tally.fail(test, `expected true, ${describeOutcome(outcome)}`);
  }
  if (test.result === 'invalid') {
    return got !== 'true' ? tally.ok(test, got) : tally.fail(test, 'invalid signature verified as true');
  }
  const decision = acceptableDecision(test, acceptable);
  if (decision === undefined) return tally.fail(test, `acceptable vector with no decision for flags [${test.flags.join(',')}]`);
  return got === decision ? tally.ok(test, got) : tally.fail(test, `acceptable: decided ${decision}, ${describeOutcome(outcome)}`);
}

/**
 * Imports a group's public key. undefined when the engine refuses it, after checking that no vector
 * of the group is valid (and counting them all); a non-InvalidParameter error fails every vector.
 */
function importGroupKey(tally: Tally, der: string, tests: readonly WycheproofTest[], expectedSpec: KeySpec): PublicKey | undefined {
  const imported = outcomeOf(() => importPublicKey(hex(der)));
  if (imported.kind === 'returned') {
    if (imported.value.spec === expectedSpec) return imported.value;
    for (const test of tests) tally.fail(test, `public key imported as ${imported.value.spec}, expected ${expectedSpec}`);
    return undefined;
  }
  for (const test of tests) {
    if (imported.kind === 'error') tally.fail(test, `public key import: unexpected exception: ${imported.description}`);
    else if (test.result !== 'invalid') tally.fail(test, `public key refused (${imported.message}) but vector is ${test.result}`);
    else tally.ok(test, 'key refused');
  }
  return undefined;
}

function ecdsaDerFile(name: string, spec: KeySpec): void {
  it(name, () => {
    const file = loadWycheproof<EcdsaVerifyGroup>(name, 'ecdsa_verify_schema_v1.json', ['publicKeyDer', 'sha'], ['msg', 'sig']);
    const tally = new Tally(file);
    for (const group of file.testGroups) {
      if (group.sha !== 'SHA-256') tally.note(`group with hash ${group.sha}: only SHA-256 expected in ${name}`);
      const key = importGroupKey(tally, group.publicKeyDer, group.tests, spec);
      if (!key) continue;
      for (const test of group.tests) {
        const digest = sha256(hex(test.msg));
        const sig = hex(test.sig);
        checkVerify(tally, test, outcomeOf(() => verifyDigest(key, 'ECDSA_SHA_256', digest, sig)), ACCEPTABLE_NONE);
      }
    }
    tally.assertComplete();
  });
}

function bigintOf(bytes: Uint8Array): bigint {
  return BigInt(`0x${toHex(bytes) || '0'}`);
}

describe('Wycheproof: ECDSA (DER signatures) through verifyDigest', () => {
  ecdsaDerFile('ecdsa_secp256r1_sha256_test.json', 'EC_P256');
  ecdsaDerFile('ecdsa_secp256k1_sha256_test.json', 'EC_P256K');
});

describe('Wycheproof: ECDSA (IEEE P1363 r||s) through EcdsaPublicKey.verifyRs', () => {
  const name = 'ecdsa_secp256r1_sha256_p1363_test.json';
  it(name, () => {
    const file = loadWycheproof<EcdsaVerifyGroup>(name, 'ecdsa_p1363_verify_schema_v1.json', ['publicKeyDer', 'sha'], ['msg', 'sig']);
    const tally = new Tally(file);
    for (const group of file.testGroups) {
      if (group.sha !== 'SHA-256') tally.note(`group with hash ${group.sha}: only SHA-256 expected in ${name}`);
      const key = importGroupKey(tally, group.publicKeyDer, group.tests, 'EC_P256');
      if (!key) continue;
      if (!(key instanceof EcdsaPublicKey)) {
        for (const test of group.tests) tally.fail(test, 'importPublicKey did not return an EcdsaPublicKey');
        continue;
      }
      for (const test of group.tests) {
        const digest = sha256(hex(test.msg));
        const sig = hex(test.sig);
        // A P1363 signature for P-256 is exactly 64 bytes; any other length is invalid by definition.
        const outcome: Outcome<boolean> =
          sig.length === 64
            ? outcomeOf(() => key.verifyRs(digest, { r: bigintOf(sig.subarray(0, 32)), s: bigintOf(sig.subarray(32)) }))
            : { kind: 'rejected', message: `P1363 signature of ${sig.length} bytes, not 64` };
        checkVerify(tally, test, outcome, ACCEPTABLE_NONE);
      }
    }
    tally.assertComplete();
  });
});

function rsaVerifyFile<G extends RsaPkcs1VerifyGroup | RsaPssVerifyGroup>(
  name: string,
  schema: string,
  algorithm: SigningAlgorithm,
  acceptable: Readonly<Record<string, VerifyDecision>>,
  checkGroup: (group: G) => string | undefined,
): void {
  it(name, () => {
    const file = loadWycheproof<G>(name, schema, ['publicKeyDer', 'sha'], ['msg', 'sig']);
    const tally = new Tally(file);
    for (const group of file.testGroups) {
      const problem = checkGroup(group);
      if (problem) {
        for (const test of group.tests) tally.fail(test, `group not applicable: ${problem}`);
        continue;
      }
      const key = importGroupKey(tally, group.publicKeyDer, group.tests, 'RSA_2048');
      if (!key) continue;
      for (const test of group.tests) {
        const digest = sha256(hex(test.msg));
        const sig = hex(test.sig);
        checkVerify(tally, test, outcomeOf(() => verifyDigest(key, algorithm, digest, sig)), acceptable);
      }
    }
    tally.assertComplete();
  });
}

describe('Wycheproof: RSA signature verification through verifyDigest', () => {
  rsaVerifyFile<RsaPkcs1VerifyGroup>(
    'rsa_signature_2048_sha256_test.json',
    'rsassa_pkcs1_verify_schema_v1.json',
    'RSA_PKCS1_SHA_256',
    ACCEPTABLE_RSA_PKCS1_VERIFY,
    (g) => (g.sha === 'SHA-256' ? undefined : `hash ${g.sha}`),
  );
  rsaVerifyFile<RsaPssVerifyGroup>(
    'rsa_pss_2048_sha256_mgf1_32_test.json',
    'rsassa_pss_verify_schema_v1.json',
    'RSA_PSS_SHA_256',
    ACCEPTABLE_NONE,
    (g) =>
      g.sha === 'SHA-256' && g.mgf === 'MGF1' && g.mgfSha === 'SHA-256' && g.sLen === 32
        ? undefined
        : `${g.sha} ${g.mgf}-${g.mgfSha} sLen ${g.sLen}`,
  );
});

/**
 * rsa_pkcs1_2048_sig_gen_test.json. SHA-256 groups: our deterministic signature must equal theirs
 * byte for byte, and their signature must verify. Groups with another hash (SHA-1, SHA-224,
 * SHA-384, SHA-512) have no algorithm in the engine (RSA_PKCS1_SHA_256 only): there we assert the
 * engine refuses that hash's digest for signing and verification (InvalidParameter, digest length),
 * and that their signature does not verify as an RSA_PKCS1_SHA_256 signature of the same message.
 */
describe('Wycheproof: RSA PKCS#1 v1.5 signing through signDigest', () => {
  const name = 'rsa_pkcs1_2048_sig_gen_test.json';
  // Acceptable categories in SHA-256 groups: e = 3 keys are signed with like any other key.
  const ACCEPTABLE_SIGN: ReadonlySet<string> = new Set(['SmallPublicKey']);
  it(name, () => {
    const file = loadWycheproof<RsaPkcs1GenerateGroup>(name, 'rsassa_pkcs1_generate_schema_v1.json', ['keyDer', 'privateKeyPkcs8', 'sha'], [
      'msg',
      'sig',
    ]);
    const tally = new Tally(file);
    for (const group of file.testGroups) {
      const priv = outcomeOf(() => importPrivateKey(hex(group.privateKeyPkcs8), 'RSA_2048'));
      const pub = importGroupKey(tally, group.keyDer, [], 'RSA_2048');
      if (priv.kind !== 'returned' || !pub) {
        const why = priv.kind === 'returned' ? 'public key (keyDer) not imported' : `private key import: ${describeOutcome(priv)}`;
        for (const test of group.tests) tally.fail(test, why);
        continue;
      }
      if (toHex(priv.value.publicKey.spki) !== toHex(pub.spki)) tally.note(`group ${group.sha}: private key does not match keyDer`);
      for (const test of group.tests) {
        const msg = hex(test.msg);
        const theirs = hex(test.sig);
        if (group.sha === 'SHA-256') {
          if (test.result === 'invalid') {
            tally.fail(test, 'no invalid vectors expected in a generation file');
            continue;
          }
          if (test.result === 'acceptable' && !test.flags.some((f) => ACCEPTABLE_SIGN.has(f))) {
            tally.fail(test, `acceptable vector with no decision for flags [${test.flags.join(',')}]`);
            continue;
          }
          const digest = sha256(msg);
          const ours = outcomeOf(() => signDigest(priv.value, 'RSA_PKCS1_SHA_256', digest));
          const verified = outcomeOf(() => verifyDigest(pub, 'RSA_PKCS1_SHA_256', digest, theirs));
          if (ours.kind !== 'returned') tally.fail(test, `signDigest ${describeOutcome(ours)}`);
          else if (toHex(ours.value) !== test.sig) tally.fail(test, `our signature ${toHex(ours.value)} differs from theirs`);
          else if (verified.kind !== 'returned' || !verified.value) tally.fail(test, `their signature: ${describeOutcome(verified)}`);
          else tally.ok(test, 'signature equal');
          continue;
        }
        // Unsupported hash: refused for signing and verifying; their signature is not a SHA-256 one.
        const otherDigest = digestOf(group.sha, msg);
        const signed = outcomeOf(() => signDigest(priv.value, 'RSA_PKCS1_SHA_256', otherDigest));
        const verifiedOther = outcomeOf(() => verifyDigest(pub, 'RSA_PKCS1_SHA_256', otherDigest, theirs));
        const verified256 = outcomeOf(() => verifyDigest(pub, 'RSA_PKCS1_SHA_256', sha256(msg), theirs));
        if (otherDigest.length === 32) tally.fail(test, `${group.sha} digest is 32 bytes; cannot tell it from SHA-256`);
        else if (signed.kind !== 'rejected') tally.fail(test, `signDigest with a ${group.sha} digest ${describeOutcome(signed)}`);
        else if (verifiedOther.kind !== 'rejected') tally.fail(test, `verifyDigest with a ${group.sha} digest ${describeOutcome(verifiedOther)}`);
        else if (verified256.kind !== 'returned' || verified256.value) {
          tally.fail(test, `their ${group.sha} signature checked as SHA-256: ${describeOutcome(verified256)}`);
        } else tally.ok(test, `unsupported hash ${group.sha} refused`);
      }
    }
    tally.assertComplete();
  });
});

function oaepAlgorithm(group: RsaOaepDecryptGroup): EncryptionAlgorithm | undefined {
  if (group.mgf !== 'MGF1' || group.mgfSha !== group.sha) return undefined;
  if (group.sha === 'SHA-256') return 'RSAES_OAEP_SHA_256';
  if (group.sha === 'SHA-1') return 'RSAES_OAEP_SHA_1';
  return undefined;
}

const ENGINE_RSA_BITS: readonly number[] = [2048, 3072, 4096];

function oaepFile(name: string): void {
  it(name, () => {
    const file = loadWycheproof<RsaOaepDecryptGroup>(name, 'rsaes_oaep_decrypt_schema_v1.json', ['privateKeyPkcs8', 'sha', 'mgfSha'], [
      'msg',
      'ct',
      'label',
    ]);
    const tally = new Tally(file);
    // Manger's attack: every padding failure must look the same to the caller.
    const paddingErrors = new Set<string>();
    for (const group of file.testGroups) {
      const algorithm = oaepAlgorithm(group);
      if (!algorithm) {
        for (const test of group.tests) tally.fail(test, `group not applicable: OAEP ${group.sha} ${group.mgf}-${group.mgfSha}`);
        continue;
      }
      const der = hex(group.privateKeyPkcs8);
      const imported = outcomeOf(() => importPrivateKey(der));
      if (!ENGINE_RSA_BITS.includes(group.keySize)) {
        // The engine only takes 2048/3072/4096-bit moduli: the key itself must be refused.
        for (const test of group.tests) {
          if (imported.kind === 'rejected') tally.ok(test, `key of ${group.keySize} bits refused`);
          else tally.fail(test, `${group.keySize}-bit key: importPrivateKey ${describeOutcome(imported)}`);
        }
        continue;
      }
      if (imported.kind !== 'returned') {
        for (const test of group.tests) tally.fail(test, `importPrivateKey ${describeOutcome(imported)}`);
        continue;
      }
      const priv = imported.value;
      if (priv.spec !== `RSA_${group.keySize}`) tally.note(`${group.keySize}-bit group imported as ${priv.spec}`);
      const keyObject = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
      for (const test of group.tests) {
        const ct = hex(test.ct);
        const label = hex(test.label);
        const outcome =
          label.length === 0 ? outcomeOf(() => decrypt(priv, algorithm, ct)) : outcomeOf(() => rsaOaepDecrypt(keyObject, algorithm, ct, label));
        if (outcome.kind === 'error') {
          tally.fail(test, `unexpected exception: ${outcome.description}`);
        } else if (test.result === 'valid') {
          if (outcome.kind !== 'returned') tally.fail(test, `expected msg, ${describeOutcome(outcome)}`);
          else if (toHex(outcome.value) !== test.msg) tally.fail(test, `decrypted ${toHex(outcome.value)}, expected ${test.msg}`);
          else if (label.length > 0) {
            // The engine's own decrypt (no label) must refuse a ciphertext made with a label.
            const unlabelled = outcomeOf(() => decrypt(priv, algorithm, ct));
            if (unlabelled.kind === 'rejected') tally.ok(test, 'decrypted');
            else tally.fail(test, `labelled ciphertext through decrypt() without label: ${describeOutcome(unlabelled)}`);
          } else tally.ok(test, 'decrypted');
        } else if (test.result === 'invalid') {
          if (outcome.kind !== 'rejected') tally.fail(test, `invalid ciphertext: ${describeOutcome(outcome)}`);
          else {
            if (test.flags.includes('InvalidOaepPadding')) paddingErrors.add(outcome.message);
            tally.ok(test, 'rejected');
          }
        } else {
          tally.fail(test, `acceptable vector with no decision for flags [${test.flags.join(',')}]`);
        }
      }
    }
    if (paddingErrors.size > 1) tally.note(`padding failures are distinguishable: ${JSON.stringify([...paddingErrors])}`);
    tally.assertComplete();
  });
}

describe('Wycheproof: RSAES-OAEP decryption through decrypt / rsaOaepDecrypt', () => {
  oaepFile('rsa_oaep_2048_sha256_mgf1sha256_test.json');
  oaepFile('rsa_oaep_2048_sha1_mgf1sha1_test.json');
});
