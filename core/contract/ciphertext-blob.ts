// The CiphertextBlob of a symmetric key (Encrypt, GenerateDataKey, ReEncrypt), format version 1.
// Self-describing: it names the key and the version that encrypted it, so Decrypt needs no KeyId.
// Every byte of it is authenticated: the header as GCM associated data (with the EncryptionContext's
// canonical text after it), the IV by GCM itself.
//
//   offset  length  field
//        0       4  magic, ASCII "DKMS"
//        4       1  format version, 0x01
//        5       1  cipher: 0x01 AES-256-GCM (Aliyun_AES_256), 0x02 SM4-GCM (Aliyun_SM4)
//        6      16  KeyId, the key's UUID as 16 bytes
//       22      16  KeyVersionId, the version's UUID as 16 bytes
//       38      12  IV, random per encryption (made in the key worker)
//       50       n  ciphertext (as long as the plaintext)
//     50+n      16  GCM tag
//   AAD = bytes 0..37 || UTF-8(canonicalContext(EncryptionContext))
//
// Anything that is not such a blob is InvalidCiphertext (Alibaba's code), whatever is wrong with it.
// Runtime-neutral (no node:*): the renderer may read a blob's key and version.
import { KmsError } from './errors.ts';
import { canonicalContext, type EncryptionContext } from './encryption-context.ts';
import type { SymmetricCipher } from './specs.ts';

export interface BlobHeader {
  readonly keyId: string;
  readonly keyVersionId: string;
  readonly cipher: SymmetricCipher;
}

const MAGIC = [0x44, 0x4b, 0x4d, 0x53]; // "DKMS"
export const BLOB_FORMAT_VERSION = 1;
export const BLOB_HEADER_BYTES = 38;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** What a blob adds to its plaintext: header, IV and tag. */
export const BLOB_OVERHEAD = BLOB_HEADER_BYTES + IV_BYTES + TAG_BYTES;

const CIPHER_BYTES: Readonly<Record<SymmetricCipher, number>> = { 'AES-256-GCM': 0x01, 'SM4-GCM': 0x02 };

function invalid(why: string): KmsError {
  return new KmsError('InvalidCiphertext', `CiphertextBlob ${why}`);
}

function uuidBytes(uuid: string, out: Uint8Array, at: number): void {
  const hex = uuid.replaceAll('-', '');
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new KmsError('InternalFailure', `not a UUID: ${uuid.slice(0, 40)}`);
  for (let i = 0; i < 16; i++) out[at + i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
}

function uuidText(bytes: Uint8Array, at: number): string {
  const hex = Array.from(bytes.subarray(at, at + 16), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The 38 header bytes: magic, version, cipher, KeyId, KeyVersionId. */
export function headerBytes(h: BlobHeader): Uint8Array {
  const out = new Uint8Array(BLOB_HEADER_BYTES);
  out.set(MAGIC, 0);
  out[4] = BLOB_FORMAT_VERSION;
  out[5] = CIPHER_BYTES[h.cipher];
  uuidBytes(h.keyId, out, 6);
  uuidBytes(h.keyVersionId, out, 22);
  return out;
}

/** The associated data GCM authenticates: the header, then the context's canonical text. */
export function blobAad(h: BlobHeader, context: EncryptionContext | undefined): Uint8Array {
  const header = headerBytes(h);
  const text = new TextEncoder().encode(canonicalContext(context));
  const out = new Uint8Array(header.length + text.length);
  out.set(header, 0);
  out.set(text, header.length);
  return out;
}

export function encodeBlob(h: BlobHeader, iv: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Uint8Array {
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new KmsError('InternalFailure', 'a CiphertextBlob takes a 12-byte IV and a 16-byte tag');
  const out = new Uint8Array(BLOB_OVERHEAD + ciphertext.length);
  out.set(headerBytes(h), 0);
  out.set(iv, BLOB_HEADER_BYTES);
  out.set(ciphertext, BLOB_HEADER_BYTES + IV_BYTES);
  out.set(tag, BLOB_HEADER_BYTES + IV_BYTES + ciphertext.length);
  return out;
}

/** InvalidCiphertext on anything that is not a version-1 blob (short, another magic, version or cipher). */
export function decodeBlob(blob: Uint8Array): { header: BlobHeader; iv: Uint8Array; ciphertext: Uint8Array; tag: Uint8Array } {
  if (blob.length < BLOB_HEADER_BYTES || MAGIC.some((b, i) => blob[i] !== b)) {
    throw invalid('is not a ciphertext of a DeskKMS symmetric key (it does not start with the DKMS header); an AsymmetricEncrypt ciphertext is decrypted with AsymmetricDecrypt');
  }
  if (blob[4] !== BLOB_FORMAT_VERSION) throw invalid(`has format version ${blob[4]}, which this DeskKMS does not read (it reads ${BLOB_FORMAT_VERSION})`);
  const cipher = (Object.keys(CIPHER_BYTES) as SymmetricCipher[]).find((c) => CIPHER_BYTES[c] === blob[5]);
  if (!cipher) throw invalid(`names an unknown cipher (${blob[5]})`);
  if (blob.length < BLOB_OVERHEAD) throw invalid(`is ${blob.length} bytes, shorter than its header, IV and tag (${BLOB_OVERHEAD}): truncated?`);
  const header: BlobHeader = { keyId: uuidText(blob, 6), keyVersionId: uuidText(blob, 22), cipher };
  return {
    header,
    iv: blob.slice(BLOB_HEADER_BYTES, BLOB_HEADER_BYTES + IV_BYTES),
    ciphertext: blob.slice(BLOB_HEADER_BYTES + IV_BYTES, blob.length - TAG_BYTES),
    tag: blob.slice(blob.length - TAG_BYTES),
  };
}
