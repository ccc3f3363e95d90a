// Digest-mode P-256 signing (the API's AsymmetricSign, SSH, sigstore, OpenPGP, JWS) against
// `openssl speed ecdsap256` in this same run: noble (the engine before issue 19), the engine's
// lone signDigest, and signDigests in groups of 32 as the key worker signs requests that arrive
// together (deskkms batch keeps up to 512 requests in flight; the worker signs up to 128 a turn).
import { randomBytes } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { generateKey, signDigest, signDigests, type SignDigestRequest } from '../../core/crypto/engine.ts';
import { inversionRoute } from '../../core/crypto/p256-sign.ts';
import { fmt, median, opsPerSecond, printTable } from './measure.ts';
import { QUICK, record, say } from './summary.ts';

/** The group size timed here and in deskkms batch's grouped reference. */
export const P256_GROUP = 32;
const GROUP = P256_GROUP;

/** Signatures per second of `signDigests` in groups of P256_GROUP, as the key worker signs under load. */
export function groupedSignRate(key: SignDigestRequest['key'], algorithm: string, digest: Uint8Array, seconds: number): number {
  const group = Array.from({ length: GROUP }, () => ({ key, algorithm, digest }));
  return GROUP * opsPerSecond(() => signDigests(group), seconds);
}

/** Rounds of (openssl speed, lone, grouped), interleaved: the machine's load moves within a run. */
const ROUNDS = QUICK ? 1 : 3;

/**
 * P-256 against `openssl speed ecdsap256` (`openssl()` runs it once, ~1 s, and gives sign/s). Each
 * round runs openssl, then times the lone and grouped rates; each ratio is the median over the
 * rounds of a round's rate over the openssl figure measured just before it.
 */
export async function p256Bench(seconds: number, openssl: () => number | undefined): Promise<void> {
  const key = await generateKey('EC_P256');
  const digest = randomBytes(32);
  const sk = p256.utils.randomSecretKey();
  const lone = (): number => opsPerSecond(() => signDigest(key, 'ECDSA_SHA_256', digest), seconds);
  lone(); // the WebAssembly module and the JIT warm up
  const rounds: { floor: number; single: number; grouped: number; noble: number }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const floor = openssl() ?? Number.NaN;
    const single = lone();
    const grouped = groupedSignRate(key, 'ECDSA_SHA_256', digest, seconds);
    const noble = i === 0 ? opsPerSecond(() => p256.sign(digest, sk, { prehash: false, extraEntropy: true }), seconds) : Number.NaN;
    rounds.push({ floor, single, grouped, noble });
  }
  const floor = median(rounds.map((r) => r.floor));
  const ratioOf = (pick: (r: (typeof rounds)[number]) => number): number => median(rounds.map((r) => pick(r) / r.floor));
  const noble = rounds[0]!.noble / rounds[0]!.floor;
  const single = ratioOf((r) => r.single);
  const grouped = ratioOf((r) => r.grouped);
  const shown = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '-');
  printTable(
    `Digest-mode P-256 signatures per second (one thread; k⁻¹ through the ${inversionRoute()}; ${ROUNDS} round${ROUNDS > 1 ? 's' : ''}, median)`,
    ['implementation', 'sign/s', 'ratio to openssl speed'],
    [
      ['openssl speed ecdsap256', Number.isFinite(floor) ? fmt(floor) : 'n/a', '1.00'],
      ['@noble/curves p256.sign, hedged (the engine before)', fmt(rounds[0]!.noble), shown(noble)],
      ['engine signDigest, one at a time', fmt(median(rounds.map((r) => r.single))), shown(single)],
      [`engine signDigests, ${GROUP} together (the key worker's batches)`, fmt(median(rounds.map((r) => r.grouped))), shown(grouped)],
    ],
  );
  if (ROUNDS > 1) say(`each round's lone ratio: ${rounds.map((r) => (r.single / r.floor).toFixed(2)).join(', ')}; openssl speed: ${rounds.map((r) => fmt(r.floor)).join(', ')}`);
  const against = 'openssl speed ecdsap256 sign/s, same run (median of interleaved rounds)';
  record({ id: 'p256.noble.ratio', what: 'noble P-256 digest signing (before)', value: noble, against });
  record({ id: 'p256.single.ratio', what: 'engine P-256 signDigest, one at a time', value: single, against, goal: { atLeast: 0.5 } });
  record({ id: 'p256.grouped.ratio', what: `engine P-256 signDigests, ${GROUP} together (the key worker under load)`, value: grouped, against, goal: { atLeast: 0.5 } });
}
