// A request or response as it crossed the air gap, in any of its three forms:
//   - the JSON file itself (a USB stick): its bytes, unchanged (the response binds the request's SHA-256);
//   - a text file of UR parts, one per line (what a USB QR scanner types, or a user pastes); blank
//     lines are ignored, the parts may come in any order and case;
//   - a directory of PNG frames (writeQrPngs' STEM-01.png...): every *.png, decoded with jsQR.
// Both QR forms reassemble through assembleParts (qr.ts), the app's camera too. Each form is size-limited before it
// is read whole.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import { describeFsError } from '../hosts/cli/inputs.ts';
import { MAX_PNG_PIXELS, assembleParts, decodeQrPng, maxParts } from './qr.ts';
import { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES } from '../contract/signing-requests.ts';

/** A PNG frame is a few kilobytes; anything past this is not one of ours. */
const MAX_PNG_BYTES = 8 << 20;

function malformed(message: string): KmsError {
  return new KmsError('Request.Malformed', message);
}

const names = new Intl.Collator('en', { numeric: true });

/** The first characters of a text for a message, escaped and quoted. */
function begins(text: string): string {
  return `"${escapeText(text, 48)}"`;
}

function isJson(bytes: Uint8Array): boolean {
  for (const byte of bytes) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    return byte === 0x7b; // "{"
  }
  return false;
}

async function readLimited(path: string, shown: string, limit: number, what: string): Promise<Uint8Array> {
  let data: Buffer;
  try {
    const stat = await fs.stat(path);
    if (stat.size > limit) throw Object.assign(new Error('too large'), { code: 'E2BIG' });
    data = await fs.readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'E2BIG') {
      throw malformed(`${what} ${shown}: too large to be a ${what} or its QR frames (over ${limit} bytes)`);
    }
    throw invalidParameter(`${what} ${shown}`, describeFsError(error));
  }
  if (data.length > limit) throw malformed(`${what} ${shown}: too large to be a ${what} or its QR frames (over ${limit} bytes)`);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** The message from its parts, or Request.Malformed naming `shown` when they are incomplete. */
async function assembled(
  parts: Iterable<readonly [string, string]> | AsyncIterable<readonly [string, string]>,
  max: number,
  shown: string,
): Promise<Uint8Array> {
  const result = await assembleParts(parts, max);
  if (result.bytes !== undefined) return result.bytes;
  throw malformed(
    result.expected === undefined
      ? `${shown}: no QR frame of a request or response was read`
      : `${shown}: the QR frames are incomplete: ${result.frames} distinct frame${result.frames === 1 ? '' : 's'} read, ` +
          `${Math.round(result.progress * 100)}% of the ${result.expected} fragments known; scan the missing ones`,
  );
}

/**
 * The bytes of a request or response from `path`: its JSON file, a text file of its UR parts, or a
 * directory of its PNG frames. InvalidParameter (naming the path) when it cannot be read;
 * Request.Malformed when it is none of the three, too large, or its frames are incomplete or mixed.
 */
export async function readCarried(path: string, what: 'request' | 'response'): Promise<Uint8Array> {
  if (what !== 'request' && what !== 'response') throw invalidParameter('what', 'must be "request" or "response"');
  if (typeof path !== 'string' || path === '') throw invalidParameter(what, 'no file or directory given');
  const max = what === 'request' ? MAX_REQUEST_BYTES : MAX_RESPONSE_BYTES;
  const shown = escapeText(path, 200);
  let stat;
  try {
    stat = await fs.stat(path);
  } catch (error) {
    throw invalidParameter(`${what} ${shown}`, describeFsError(error));
  }

  if (stat.isDirectory()) {
    let entries: string[];
    try {
      entries = await fs.readdir(path);
    } catch (error) {
      throw invalidParameter(`${what} ${shown}`, describeFsError(error));
    }
    const pngs = entries.filter((name) => /\.png$/i.test(name)).sort(names.compare);
    if (pngs.length === 0) throw malformed(`${what} ${shown}: a directory without *.png QR frames`);
    if (pngs.length > maxParts(max)) throw malformed(`${what} ${shown}: ${pngs.length} PNG files, more than any ${what} has QR frames (${maxParts(max)})`);
    // Decoded one at a time as the assembler asks for them; every frame, even past completion.
    async function* frames(): AsyncGenerator<readonly [string, string]> {
      for (const name of pngs) {
        const file = join(path, name);
        const where = `${what} ${escapeText(file, 200)}`;
        const bytes = await readLimited(file, escapeText(file, 200), MAX_PNG_BYTES, 'QR frame');
        const text = decodeQrPng(bytes);
        if (text === undefined) throw malformed(`${where}: no QR code could be read (not a PNG, more than ${MAX_PNG_PIXELS} pixels, or no code found in it)`);
        yield [where, text];
      }
    }
    return assembled(frames(), max, `${what} ${shown}`);
  }

  if (!stat.isFile()) throw invalidParameter(`${what} ${shown}`, 'not a regular file or a directory');
  // The JSON, or its parts as text: 2 letters a byte, +50% fountain parts, a header each line.
  const bytes = await readLimited(path, shown, 4 * max + 65536, what);
  if (isJson(bytes)) {
    if (bytes.length > max) throw malformed(`${what} ${shown}: ${bytes.length} bytes, over the ${max} a ${what} may be`);
    return bytes;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw malformed(`${what} ${shown}: neither a ${what} (JSON) nor its QR parts (UR:BYTES/... lines): not UTF-8 text`);
  }
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  const first = lines.find((line) => line !== '');
  if (first === undefined) throw malformed(`${what} ${shown}: empty; expected a ${what} (JSON) or its QR parts (UR:BYTES/... lines)`);
  if (!/^ur:/i.test(first)) {
    throw malformed(`${what} ${shown}: neither a ${what} (JSON) nor its QR parts (UR:BYTES/... lines): begins ${begins(first)}`);
  }
  const parts = [...lines.entries()].filter(([, line]) => line !== '').map(([i, line]) => [`${what} ${shown} line ${i + 1}`, line] as const);
  return assembled(parts, max, `${what} ${shown}`);
}
