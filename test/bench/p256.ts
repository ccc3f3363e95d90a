// Digest-mode P-256 signing (the API's AsymmetricSign, SSH, sigstore, OpenPGP, JWS) against
// `openssl speed ecdsap256` in this same run: noble (the engine before issue 19), the engine's
// lone signDigest, and signDigests in groups of 32 as the key worker signs requests that arrive
// together (deskkms batch keeps up to 256 requests in flight; the worker signs up to 64 a turn).
import { randomBytes } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { generateKey, signDigest, signDigests, type SignDigestRequest } from '../../core/crypto/engine.ts';
import { inversionRoute } from '../../core/crypto/p256-sign.ts';
import { fmt, opsPerSecond, printTable } from './measure.ts';
import { record } from './summary.ts';

/** The group size timed here and in deskkms batch's grouped reference. */
export const P256_GROUP = 32;
const GROUP = P256_GROUP;

/** Signatures per second of `signDigests` in groups of P256_GROUP, as the key worker signs under load. */
export function groupedSignRate(key: SignDigestRequest['key'], algorithm: string, digest: Uint8Array, seconds: number): number {
  const group = Array.from({ length: GROUP }, () => ({ key, algorithm, digest }));
  return GROUP * opsPerSecond(() => signDigests(group), seconds);
}

export async function p256Bench(seconds: number, openssl: { sign: number } | undefined): Promise<void> {
  const key = await generateKey('EC_P256');
  const digest = randomBytes(32);
  const sk = p256.utils.randomSecretKey();
  const noble = opsPerSecond(() => p256.sign(digest, sk, { prehash: false, extraEntropy: true }), seconds);
  const single = opsPerSecond(() => signDigest(key, 'ECDSA_SHA_256', digest), seconds);
  const grouped = groupedSignRate(key, 'ECDSA_SHA_256', digest, seconds);
  const floor = openssl?.sign ?? Number.NaN;
  const ratio = (n: number): string => (Number.isFinite(floor) ? (n / floor).toFixed(2) : '-');
  printTable(`Digest-mode P-256 signatures per second (one thread; k⁻¹ through the ${inversionRoute()})`, ['implementation', 'sign/s', 'ratio to openssl speed'], [
    ['openssl speed ecdsap256', Number.isFinite(floor) ? fmt(floor) : 'n/a', '1.00'],
    ['@noble/curves p256.sign, hedged (the engine before)', fmt(noble), ratio(noble)],
    ['engine signDigest, one at a time', fmt(single), ratio(single)],
    [`engine signDigests, ${GROUP} together (the key worker's batches)`, fmt(grouped), ratio(grouped)],
  ]);
  const against = 'openssl speed ecdsap256 sign/s, same run';
  record({ id: 'p256.noble.ratio', what: 'noble P-256 digest signing (before)', value: noble / floor, against });
  record({ id: 'p256.single.ratio', what: 'engine P-256 signDigest, one at a time', value: single / floor, against });
  record({ id: 'p256.grouped.ratio', what: `engine P-256 signDigests, ${GROUP} together (the key worker under load)`, value: grouped / floor, against, goal: { atLeast: 0.5 } });
}
