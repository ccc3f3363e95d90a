// Bech32 (BIP 173) as age uses it for recipients and identities: the BIP's checksum and 5-bit
// alphabet, without its 90-character limit (an RSA recipient carries a public key). Runtime-neutral.
import { KmsError } from '../contract/errors.ts';

const ALPHABET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i]!;
  }
  return chk;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (const c of hrp) out.push(c.charCodeAt(0) >>> 5);
  out.push(0);
  for (const c of hrp) out.push(c.charCodeAt(0) & 31);
  return out;
}

/** Regroups bits: 8 to 5 (pad) for encoding, 5 to 8 (no pad; leftover bits must be zero) for decoding. */
function convertBits(data: readonly number[], from: number, to: number, pad: boolean): number[] | undefined {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const max = (1 << to) - 1;
  for (const value of data) {
    acc = (acc << from) | value;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >>> bits) & max);
    }
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & max);
  } else if (bits >= from || ((acc << (to - bits)) & max) !== 0) {
    return undefined;
  }
  return out;
}

/** Lower-case Bech32 of `data` under `hrp` (printable ASCII 33-126, lower case). */
export function bech32Encode(hrp: string, data: Uint8Array): string {
  const words = convertBits(Array.from(data), 8, 5, true)!;
  const values = [...hrpExpand(hrp), ...words, 0, 0, 0, 0, 0, 0];
  const mod = polymod(values) ^ 1;
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >>> (5 * (5 - i))) & 31);
  return `${hrp}1${[...words, ...checksum].map((w) => ALPHABET[w]).join('')}`;
}

/** Decodes Bech32 text of one case (either); Format.Malformed naming `what` on any fault. */
export function bech32Decode(text: string, what: string): { hrp: string; data: Uint8Array } {
  const bad = (why: string) => new KmsError('Format.Malformed', `${what} is not valid Bech32: ${why}`);
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) throw bad('it mixes upper and lower case');
  const s = text.toLowerCase();
  const sep = s.lastIndexOf('1');
  if (sep < 1 || sep + 7 > s.length) throw bad('no human-readable part and checksum');
  const hrp = s.slice(0, sep);
  if (![...hrp].every((c) => c.charCodeAt(0) >= 33 && c.charCodeAt(0) <= 126)) throw bad('its prefix has a character outside ASCII 33-126');
  const values: number[] = [];
  for (const c of s.slice(sep + 1)) {
    const v = ALPHABET.indexOf(c);
    if (v < 0) throw bad(`"${c}" is not a Bech32 character`);
    values.push(v);
  }
  if (polymod([...hrpExpand(hrp), ...values]) !== 1) throw bad('its checksum does not match (a typing error?)');
  const bytes = convertBits(values.slice(0, -6), 5, 8, false);
  if (!bytes) throw bad('its data has padding bits set');
  return { hrp, data: Uint8Array.from(bytes) };
}
