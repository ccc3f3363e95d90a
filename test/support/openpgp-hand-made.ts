// OpenPGP certificates and signatures made by hand with node:crypto P-256 keys, for the cases
// DeskKMS never writes itself but must judge as gpg and sq do: a primary key whose self-signature
// has other key flags (certify only) or none, and a signing subkey whose binding is newer than a
// signature. Built from the same wire pieces as core/formats/openpgp-packets.ts, signed here.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { decodeRsSignature } from '../../core/crypto/der.ts';
import { armor, bigintBytes, concat, fingerprintOf, keyBody, keyHashPrefix, mpi, packet, subpacket, SUBPACKET, TAG, u16, u32 } from '../../core/formats/openpgp-packets.ts';

export interface HandMadeKey {
  readonly privateKey: KeyObject;
  readonly body: Uint8Array;
  readonly fingerprint: string;
}

export function handMadeKey(created: number): HandMadeKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { body } = keyBody(new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })), created);
  return { privateKey, body, fingerprint: fingerprintOf(body) };
}

/** A v4 signature packet (ECDSA, SHA-256) by `by` over `prefix`, with the creation time and issuer fingerprint hashed. */
export function handMadeSignaturePacket(by: HandMadeKey, type: number, created: number, prefix: Uint8Array, extraHashed: Uint8Array = new Uint8Array(0)): Uint8Array {
  const hashed = concat(
    subpacket(SUBPACKET.creationTime, u32(created)),
    subpacket(SUBPACKET.issuerFingerprint, concat(new Uint8Array([4]), new Uint8Array(Buffer.from(by.fingerprint, 'hex')))),
    extraHashed,
  );
  const part = concat(new Uint8Array([4, type, 19, 8]), u16(hashed.length), hashed);
  const data = concat(prefix, part, new Uint8Array([4, 0xff]), u32(part.length));
  const digest = createHash('sha256').update(data).digest();
  const { r, s } = decodeRsSignature(new Uint8Array(sign('sha256', data, by.privateKey)), 'signature');
  const unhashed = subpacket(SUBPACKET.issuer, new Uint8Array(Buffer.from(by.fingerprint.slice(24), 'hex')));
  return packet(TAG.signature, concat(part, u16(unhashed.length), unhashed, digest.subarray(0, 2), mpi(bigintBytes(r)), mpi(bigintBytes(s))));
}

const keyFlags = (flags: number | undefined): Uint8Array => (flags === undefined ? new Uint8Array(0) : subpacket(SUBPACKET.keyFlags, new Uint8Array([flags])));

export interface HandMadeCertificate {
  /** Armored "PGP PUBLIC KEY BLOCK". */
  readonly certificate: Uint8Array;
  readonly primary: HandMadeKey;
  readonly subkey?: HandMadeKey;
}

/**
 * A primary key created at `created` with one User ID, self-certified (0x13) at `created` with
 * `primaryFlags` (undefined: no key-flags subpacket), optionally a direct-key signature, and optionally a subkey bound (0x18 with the
 * sign flag and an embedded back-signature 0x19) at each time of `subkey.boundAt`.
 */
export function handMadeCertificate(options: {
  readonly userId: string;
  readonly created: number;
  readonly primaryFlags: number | undefined;
  /** Adds a direct-key signature (0x1F) at `created` with these key flags. */
  readonly directFlags?: number;
  readonly subkey?: { readonly created: number; readonly boundAt: readonly number[]; readonly flags: number };
}): HandMadeCertificate {
  const primary = handMadeKey(options.created);
  const uid = new TextEncoder().encode(options.userId);
  const uidPrefix = concat(new Uint8Array([0xb4]), u32(uid.length), uid);
  const parts = [
    packet(TAG.publicKey, primary.body),
    ...(options.directFlags !== undefined ? [handMadeSignaturePacket(primary, 0x1f, options.created, keyHashPrefix(primary.body), keyFlags(options.directFlags))] : []),
    packet(TAG.userId, uid),
    handMadeSignaturePacket(primary, 0x13, options.created, concat(keyHashPrefix(primary.body), uidPrefix), keyFlags(options.primaryFlags)),
  ];
  let subkey: HandMadeKey | undefined;
  if (options.subkey) {
    subkey = handMadeKey(options.subkey.created);
    const prefix = concat(keyHashPrefix(primary.body), keyHashPrefix(subkey.body));
    parts.push(packet(TAG.publicSubkey, subkey.body));
    for (const at of options.subkey.boundAt) {
      const back = handMadeSignaturePacket(subkey, 0x19, at, prefix);
      const backBody = back.subarray(back[1]! < 192 ? 2 : 3); // the packet's body: the embedded signature
      parts.push(handMadeSignaturePacket(primary, 0x18, at, prefix, concat(keyFlags(options.subkey.flags), subpacket(32, backBody))));
    }
  }
  return { certificate: armor('PGP PUBLIC KEY BLOCK', concat(...parts)), primary, ...(subkey ? { subkey } : {}) };
}

/** An armored detached binary signature (0x00) of `message` by `by`, dated `created`. */
export function handMadeSignature(by: HandMadeKey, created: number, message: Uint8Array): Uint8Array {
  return armor('PGP SIGNATURE', handMadeSignaturePacket(by, 0x00, created, message));
}
