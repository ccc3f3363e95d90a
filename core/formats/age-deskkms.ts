// DeskKMS's age recipients and identities (the age-plugin-deskkms program, C2SP age-plugin):
//   recipient  age1deskkms1...            Bech32, prefix "age1deskkms", of
//                version 0x01, kind 0x01 (a symmetric vault key), KeyId (16 bytes)
//                version 0x01, kind 0x02 (an RSA ENCRYPT/DECRYPT key version), KeyId (16),
//                KeyVersionId (16), the version's public key (DER SubjectPublicKeyInfo)
//   identity   AGE-PLUGIN-DESKKMS-1...   Bech32, prefix "AGE-PLUGIN-DESKKMS-", upper case, of
//                version 0x01, KeyId (16 bytes): the vault key that unwraps (the vault is the
//                one $DESKKMS_VAULT names, else the per-user default, as for every deskkms program)
// A file key wrapped to a recipient is one stanza of type "deskkms":
//   -> deskkms kms KEYID          body: the CiphertextBlob of Encrypt (EncryptionContext AGE_CONTEXT)
//   -> deskkms rsa KEYID VERSIONID body: RSAES-OAEP (SHA-256, MGF1-SHA-256, no label) of the file key
// An RSA recipient encrypts with its public key alone (no vault); a symmetric one asks the vault.
import { KmsError } from '../contract/errors.ts';
import { UUID } from '../contract/ids.ts';
import { bech32Decode, bech32Encode } from './bech32.ts';

export const PLUGIN_NAME = 'deskkms';
export const RECIPIENT_HRP = `age1${PLUGIN_NAME}`;
export const IDENTITY_HRP = `age-plugin-${PLUGIN_NAME}-`;
export const STANZA_TYPE = PLUGIN_NAME;
/** The EncryptionContext a symmetric key's stanza is bound to. */
export const AGE_CONTEXT = { purpose: 'age-file-key' } as const;
const FORMAT = 0x01;
const KIND_SYMMETRIC = 0x01;
const KIND_RSA = 0x02;

export type AgeRecipient =
  | { readonly kind: 'kms'; readonly keyId: string }
  | { readonly kind: 'rsa'; readonly keyId: string; readonly keyVersionId: string; readonly spki: Uint8Array };

function uuidToBytes(uuid: string): number[] {
  return Array.from(Buffer.from(uuid.replaceAll('-', ''), 'hex'));
}

function bytesToUuid(b: Uint8Array): string {
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function encodeRecipient(r: AgeRecipient): string {
  const bytes = r.kind === 'kms' ? [FORMAT, KIND_SYMMETRIC, ...uuidToBytes(r.keyId)] : [FORMAT, KIND_RSA, ...uuidToBytes(r.keyId), ...uuidToBytes(r.keyVersionId), ...r.spki];
  return bech32Encode(RECIPIENT_HRP, Uint8Array.from(bytes));
}

export function encodeIdentity(keyId: string): string {
  return bech32Encode(IDENTITY_HRP, Uint8Array.from([FORMAT, ...uuidToBytes(keyId)])).toUpperCase();
}

export function decodeRecipient(text: string): AgeRecipient {
  const { hrp, data } = bech32Decode(text, 'the age recipient');
  if (hrp !== RECIPIENT_HRP) throw new KmsError('Format.Malformed', `the age recipient is not a DeskKMS one (it starts ${hrp.slice(0, 30)}, not ${RECIPIENT_HRP})`);
  if (data[0] !== FORMAT) throw new KmsError('Format.Malformed', `the age recipient has format ${data[0]}, which this DeskKMS does not read`);
  if (data[1] === KIND_SYMMETRIC && data.length === 18) return { kind: 'kms', keyId: bytesToUuid(data.subarray(2, 18)) };
  if (data[1] === KIND_RSA && data.length > 34) return { kind: 'rsa', keyId: bytesToUuid(data.subarray(2, 18)), keyVersionId: bytesToUuid(data.subarray(18, 34)), spki: data.slice(34) };
  throw new KmsError('Format.Malformed', 'the age recipient names no key DeskKMS knows how to use (a wrong kind or length)');
}

export function decodeIdentity(text: string): { keyId: string } {
  const { hrp, data } = bech32Decode(text, 'the age identity');
  if (hrp !== IDENTITY_HRP) throw new KmsError('Format.Malformed', `the age identity is not a DeskKMS one (${hrp.slice(0, 30).toUpperCase()})`);
  if (data[0] !== FORMAT || data.length !== 17) throw new KmsError('Format.Malformed', 'the age identity has an unknown format or length');
  return { keyId: bytesToUuid(data.subarray(1)) };
}

/** A stanza's arguments after its type, checked: what it names. Undefined when it is not ours or malformed. */
export function stanzaTarget(args: readonly string[]): { kind: 'kms'; keyId: string } | { kind: 'rsa'; keyId: string; keyVersionId: string } | undefined {
  if (args[0] === 'kms' && args.length === 2 && UUID.test(args[1]!)) return { kind: 'kms', keyId: args[1]! };
  if (args[0] === 'rsa' && args.length === 3 && UUID.test(args[1]!) && UUID.test(args[2]!)) return { kind: 'rsa', keyId: args[1]!, keyVersionId: args[2]! };
  return undefined;
}
