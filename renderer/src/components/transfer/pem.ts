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
