// PEM and base64 helpers for the import and export dialogs (runtime-neutral, no node:*).
import { encodeBase64 } from '../../../../core/contract/base64.ts';

/** base64 DER (as GetParametersForImport returns the wrapping key) as PEM with 64-column lines. */
export function pemFromBase64Der(base64Der: string, label: string): string {
  const lines = base64Der.replace(/\s+/g, '').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** base64 of the UTF-8 bytes of a passphrase, as the Passphrase parameters take it. */
export function passphraseParam(passphrase: string): string {
  return encodeBase64(new TextEncoder().encode(passphrase));
}

const BASE64_TEXT = /^[A-Za-z0-9+/\s]+={0,2}\s*$/;

/**
 * EncryptedKeyMaterial from a chosen file: a file that already holds base64 text (what the
 * README's `base64 -w0` writes) is used as is, whitespace removed; raw bytes are encoded.
 */
export function materialFromFileBytes(bytes: Uint8Array): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (bytes.length > 0 && BASE64_TEXT.test(text)) return text.replace(/\s+/g, '');
  return encodeBase64(bytes);
}

/** Pasted base64 with line breaks or spaces removed. */
export function compactBase64(text: string): string {
  return text.replace(/\s+/g, '');
}
