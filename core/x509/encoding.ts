// DER building shared by CSRs and certificates: an Extension with its value encoded, and the check
// that a signed structure's encoding reproduced the bytes that were signed. Runtime: any.
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Extension } from '@peculiar/asn1-x509';

/** An X.509 Extension whose extnValue is the DER of `value`. */
export function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/**
 * Whether `outer` (a DER SEQUENCE { signed, ... } such as a CertificationRequest or Certificate)
 * holds `inner` (the signed bytes) right after its outer header: the encoder must have reproduced
 * the signed bytes, or the signature would not verify.
 */
export function containsAt(outer: Uint8Array, inner: Uint8Array): boolean {
  // The signed part is the first element, right after the outer SEQUENCE header.
  const headerLength = outer[1]! < 0x80 ? 2 : 2 + (outer[1]! & 0x7f);
  if (outer.length < headerLength + inner.length) return false;
  for (let i = 0; i < inner.length; i += 1) if (outer[headerLength + i] !== inner[i]) return false;
  return true;
}
