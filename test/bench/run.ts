// npm run bench: throughput figures behind the README's claims, each as a ratio against a
// baseline measured in this same run (never absolute numbers in assertions).
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomBytes, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import smCrypto from 'sm-crypto';
import { sm2 as smV2, sm3 as smV2Sm3 } from 'sm-crypto-v2';
import { p256 } from '@noble/curves/nist.js';
import { bytesToHex } from '@noble/curves/utils.js';
import { KEY_SPECS, KEY_SPEC_TABLE } from '../../core/contract/specs.ts';
import { digestMessage, generateKey, signDigest, verifyDigest } from '../../core/crypto/engine.ts';
import { createDigester, sha256 } from '../../core/crypto/hash.ts';
import { fmt, opsPerSecond, printTable } from './measure.ts';
import { JSON_OUTPUT, QUICK, say, summary } from './summary.ts';
import { p256Bench } from './p256.ts';

const startedAt = performance.now();
// --quick: every goal figure in under a minute (shorter windows, fewer runs, the rest skipped).
// The sections read these when they load, hence the dynamic imports below.
if (QUICK) {
  process.env.BENCH_SECONDS ??= '0.3';
  process.env.BENCH_BATCH_SECONDS ??= '1';
  process.env.BENCH_START_RUNS ??= '3';
  process.env.API_LOAD_SECONDS ??= '2';
  process.env.BENCH_DIGEST_MIB ??= '32';
}
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const { apiLoad } = await import('./api-load.ts');
const { appDigestThroughput } = await import('./app-digest.ts');
const { vaultBatchThroughput } = await import('./vault-batch.ts');
const { hostileFuzz } = await import('./hostile-fuzz.ts');
const { agentBench } = await import('./agent.ts');
const { cliStart } = await import('./cli-start.ts');
const { envelopeBench } = await import('./envelope.ts');
const digest = sha256(randomBytes(64));

function opensslSpeed(algorithm: string, seconds = SECONDS): { sign: number; verify: number } | undefined {
  try {
    const out = execFileSync('openssl', ['speed', '-seconds', String(Math.max(1, Math.round(seconds))), '-mr', algorithm], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    // Machine-readable result line, e.g. "+F7:0:256:CurveSM2:2817.0:2720.0": the last two fields are sign/s and verify/s.
    const fields = out.split('\n').find((l) => /^\+F\d+:/.test(l))?.split(':');
    if (!fields || fields.length < 5) return undefined;
    return { sign: Number(fields.at(-2)), verify: Number(fields.at(-1)) };
  } catch {
    return undefined;
  }
}

async function sm2Libraries(): Promise<void> {
  const v2 = smV2.generateKeyPairHex();
  const v1 = smCrypto.sm2.generateKeyPairHex();
  const ours = await generateKey('EC_SM2');
  const e = await digestMessage(ours.publicKey, 'SM2DSA', randomBytes(64));
  const oursSig = signDigest(ours, 'SM2DSA', e);
  const eHex = bytesToHex(e);
  const v2Sig = smV2.doSignature(e, v2.privateKey, { hash: false, der: true });
  const v1Sig = smCrypto.sm2.doSignature(eHex, v1.privateKey, { hash: false, der: true });
  const ossl = opensslSpeed('sm2');
  const rows: (string | number)[][] = [
    ['sm-crypto 0.5.8', fmt(opsPerSecond(() => smCrypto.sm2.doSignature(eHex, v1.privateKey, { hash: false, der: true }), SECONDS)), fmt(opsPerSecond(() => smCrypto.sm2.doVerifySignature(eHex, v1Sig, v1.publicKey, { hash: false, der: true }), SECONDS))],
    ['sm-crypto-v2 1.15.1', fmt(opsPerSecond(() => smV2.doSignature(e, v2.privateKey, { hash: false, der: true }), SECONDS)), fmt(opsPerSecond(() => smV2.doVerifySignature(e, v2Sig, v2.publicKey, { hash: false, der: true }), SECONDS))],
    ['deskkms engine (sm-crypto-v2 + strict DER)', fmt(opsPerSecond(() => signDigest(ours, 'SM2DSA', e), SECONDS)), fmt(opsPerSecond(() => verifyDigest(ours.publicKey, 'SM2DSA', e, oursSig), SECONDS))],
  ];
  if (ossl) rows.push(['openssl speed sm2', fmt(ossl.sign), fmt(ossl.verify)]);
  printTable('SM2 signatures per second (one thread)', ['implementation', 'sign/s', 'verify/s'], rows);
}

async function engineVersusPrimitive(): Promise<void> {
  const rows: (string | number)[][] = [];
  // Signing keys only (symmetric keys: envelope.ts).
  for (const spec of KEY_SPECS.filter((s) => KEY_SPEC_TABLE[s].algorithms['SIGN/VERIFY'].length > 0)) {
    const key = await generateKey(spec);
    const alg = KEY_SPEC_TABLE[spec].algorithms['SIGN/VERIFY'][0]!;
    const ours = opsPerSecond(() => signDigest(key, alg, digest), SECONDS);
    let baseline: number;
    let label: string;
    if (KEY_SPEC_TABLE[spec].family === 'RSA') {
      const keyObject = createPrivateKey({ key: Buffer.from(key.exportPkcs8()), format: 'der', type: 'pkcs8' });
      const msg = randomBytes(64);
      baseline = opsPerSecond(() => nodeSign('sha256', msg, { key: keyObject, padding: 6, saltLength: 32 }), SECONDS);
      label = 'node:crypto sign (PSS, message)';
    } else if (spec === 'EC_P256') {
      const sk = p256.utils.randomSecretKey();
      baseline = opsPerSecond(() => p256.sign(digest, sk, { prehash: false }), SECONDS);
      label = '@noble/curves p256.sign';
    } else if (spec === 'EC_SM2') {
      const kp = smV2.generateKeyPairHex();
      baseline = opsPerSecond(() => smV2.doSignature(digest, kp.privateKey, { hash: false }), SECONDS);
      label = 'sm-crypto-v2 doSignature';
    } else {
      const { secp256k1 } = await import('@noble/curves/secp256k1.js');
      const sk = secp256k1.utils.randomSecretKey();
      baseline = opsPerSecond(() => secp256k1.sign(digest, sk, { prehash: false }), SECONDS);
      label = '@noble/curves secp256k1.sign';
    }
    rows.push([spec, alg, fmt(ours), label, fmt(baseline), (ours / baseline).toFixed(2)]);
  }
  printTable('Engine signDigest against the bare primitive (same run)', ['spec', 'algorithm', 'engine/s', 'baseline', 'baseline/s', 'ratio'], rows);
}

function verifyRsaSanity(): void {
  // node:crypto verify of a PSS signature, to show the engine's raw-RSA path costs what a verify costs.
  const key = createPrivateKey(execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], { stdio: ['ignore', 'pipe', 'ignore'] }));
  const pub = createPublicKey(key);
  const msg = randomBytes(64);
  const sig = nodeSign('sha256', msg, { key, padding: 6, saltLength: 32 });
  const n = opsPerSecond(() => nodeVerify('sha256', msg, { key: pub, padding: 6, saltLength: 32 }, sig), SECONDS);
  printTable('Reference', ['operation', 'ops/s'], [['node:crypto RSA-2048 PSS verify', fmt(n)]]);
}

function sm3Throughput(): void {
  const data = randomBytes(1 << 20);
  const rate = (portable: boolean): number =>
    opsPerSecond(() => {
      const d = createDigester('SM3', { portable });
      d.update(data);
      d.digest();
    }, SECONDS);
  const sha = opsPerSecond(() => sha256(data), SECONDS);
  printTable('Hashing 1 MiB (MiB/s)', ['digester', 'MiB/s', 'ratio to SHA-256'], [
    ['SHA-256 (node:crypto)', fmt(sha), '1.00'],
    ['SM3 native (node:crypto, OpenSSL)', fmt(rate(false)), (rate(false) / sha).toFixed(2)],
    ['SM3 portable (deskkms, for Electron)', fmt(rate(true)), (rate(true) / sha).toFixed(2)],
    ['SM3 sm-crypto-v2 one-shot', fmt(opsPerSecond(() => smV2Sm3(data), SECONDS)), '-'],
  ]);
}

say(`deskkms bench — node ${process.version}, ${SECONDS}s per figure${QUICK ? ' (quick: the goal figures only)' : ''}`);
/** Runs a section and says how long it took (the quick mode's budget is a minute in all). */
async function section(name: string, run: () => unknown): Promise<void> {
  const t0 = performance.now();
  await run();
  say(`(${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
await section('cold start', cliStart);
await section('P-256', () => p256Bench(SECONDS, () => opensslSpeed('ecdsap256', 1)?.sign));
if (!QUICK) {
  await section('SM2 libraries', sm2Libraries);
  await section('engine', engineVersusPrimitive);
  verifyRsaSanity();
  sm3Throughput();
}
await section('deskkms batch', vaultBatchThroughput);
if (!QUICK) await section('envelope', envelopeBench);
await section('deskkms serve', () => apiLoad());
await section('app hashing', appDigestThroughput);
if (!QUICK) {
  await section('agent', () => agentBench());
  await section('hostile input', () => hostileFuzz());
}
if (JSON_OUTPUT) process.stdout.write(`${JSON.stringify(summary(startedAt), null, 2)}\n`);
else say(`\nbench took ${((performance.now() - startedAt) / 1000).toFixed(0)} s`);
