// PEM armour (RFC 7468), strict: one block, the expected label, base64 body.
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import { invalidParameter } from '../contract/errors.ts';

const BLOCK = /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]*?)\r?\n?-----END ([A-Z0-9 ]+)-----$/;

export function isPem(data: Uint8Array | string): boolean {
  const head = typeof data === 'string' ? data : new TextDecoder().decode(data.subarray(0, 64));
  return head.trimStart().startsWith('-----BEGIN ');
}

export function decodePem(text: string, label: string, parameter: string): Uint8Array {
  const match = BLOCK.exec(text.trim());
  if (!match) throw invalidParameter(parameter, `is not a single PEM block (expected -----BEGIN ${label}-----)`);
  const [, begin, body, end] = match;
  if (begin !== end) throw invalidParameter(parameter, `PEM BEGIN ${begin} does not match END ${end}`);
  if (begin !== label) throw invalidParameter(parameter, `is a PEM "${begin}" block; expected "${label}"`);
  return decodeBase64(body!.replace(/\r?\n/g, ''), parameter);
}

export function encodePem(der: Uint8Array, label: string): string {
  const lines = encodeBase64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
