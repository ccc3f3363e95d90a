// Signing requests and responses as QR codes (issue 15): the bytes as Blockchain Commons Uniform
// Resources (BCR-2020-005), type "bytes" (a CBOR byte string), through @ngraveio/bc-ur.
//
// Frames. A message whose CBOR fits one fragment is ONE part, "UR:BYTES/<bytewords>"; a longer one
// is fountain-coded: "UR:BYTES/<seq>-<n>/<bytewords>". urFrames gives the n pure fragments
// (seq 1..n: each alone carries its slice) then ceil(n/2) mixed (fountain) parts, plus one or two
// chosen so that every fragment is in one of them: whichever ONE frame a reader misses
// (a station camera skipping a frame of the loop, a lost PNG), the set still completes, and
// more misses usually do too, without waiting for the loop to come round. A reader that sees
// every pure frame needs no mixed one.
//
// Sizes (measured by core/airgap/qr.test.ts, figures in .scratch/done-15-Q.md): FRAGMENT_BYTES =
// 250 bytes of CBOR per frame. Bytewords spell each byte as two letters, so a part is about 2 x 250
// + 25 characters, all of them in QR's alphanumeric set (A-Z 0-9 : / -) once upper-cased, which QR
// packs at 5.5 bits a character instead of 8 in byte mode: a full frame is a version 14 code
// (73 x 73 modules) at error correction M (15% may be lost to glare or a moire pattern). That reads
// at once with a phone or a 720p webcam off a screen, and its half-block terminal rendering is
// 75 columns wide: it fits an 80-column terminal.
//
// PNG frames are drawn 8 pixels a module with the standard 4-module quiet zone (~650 px square):
// zbarimg and jsQR read them as they are, and a screen can show them at any size.
//
// FrameAssembler is the other end: it takes the parts in any order, any case, with duplicates,
// and refuses (Request.Malformed) what is not a UR "bytes" part, parts of two different messages,
// and a message larger than the limit it was given.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { UR, UREncoder, URDecoder } from '@ngraveio/bc-ur';
// The fountain's choice of fragments for a part (what the decoder computes too), and its CRC-32.
import { chooseFragments } from '@ngraveio/bc-ur/dist/fountainUtils.js';
import { getCRC } from '@ngraveio/bc-ur/dist/utils.js';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import { writeFileAtomically } from '../hosts/cli/output-file.ts';
import { describeFsError } from '../hosts/cli/inputs.ts';
import { MAX_RESPONSE_BYTES } from '../contract/signing-requests.ts';

/** CBOR bytes carried by one frame (see the header). */
export const FRAGMENT_BYTES = 250;
/** The smallest and largest fragment urFrames accepts. */
const MIN_FRAGMENT = 10;
const MAX_FRAGMENT = 2048;

/** QR options of every frame: error correction M, the standard quiet zone, 8 px a module in PNGs. */
const QR_OPTIONS = { errorCorrectionLevel: 'M', margin: 4 } as const;
const PNG_SCALE = 8;

/** How much of an outside string a message quotes. */
const QUOTE = 48;

const UR_PREFIX = 'ur:bytes/';

// jsqr is a UMD bundle whose typings describe the namespace; in Node its default import is the
// function, which also carries itself as .default.
const jsQR = jsQRModule.default;

function malformed(message: string): KmsError {
  return new KmsError('Request.Malformed', message);
}

function quote(text: string): string {
  return `"${escapeText(text, QUOTE)}"`;
}

/** The largest CBOR a byte string of `max` bytes makes (head: 1 type byte + up to 8 length bytes). */
function maxCbor(max: number): number {
  return max + 9;
}

export interface UrFrameOptions {
  /** CBOR bytes a frame carries (default FRAGMENT_BYTES). */
  readonly fragment?: number;
  /**
   * Mixed (fountain) parts after the pure ones when there is more than one: at least this many
   * (default ceil(n/2)), then more until every fragment is in one; 0: none.
   */
  readonly extra?: number;
}

/**
 * The UR parts of `bytes`, upper case: one "UR:BYTES/..." when it fits a fragment, else the n pure
 * fragments "UR:BYTES/1-n/..." .. "n-n" then the fountain parts (see UrFrameOptions.extra).
 */
export function urFrames(bytes: Uint8Array, options: UrFrameOptions = {}): string[] {
  const fragment = options.fragment ?? FRAGMENT_BYTES;
  if (!Number.isInteger(fragment) || fragment < MIN_FRAGMENT || fragment > MAX_FRAGMENT) {
    throw invalidParameter('fragment', `must be an integer from ${MIN_FRAGMENT} to ${MAX_FRAGMENT} (bytes a QR frame carries)`);
  }
  if (bytes.length > MAX_RESPONSE_BYTES) {
    throw malformed(`the message is ${bytes.length} bytes, over the ${MAX_RESPONSE_BYTES} a QR-carried request or response may be`);
  }
  const encoder = new UREncoder(UR.fromBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)), fragment, 0, MIN_FRAGMENT);
  const n = encoder.fragmentsLength;
  if (n === 1) return [encoder.nextPart().toUpperCase()];
  const extra = options.extra ?? Math.ceil(n / 2);
  if (!Number.isInteger(extra) || extra < 0 || extra > 4 * n) {
    throw invalidParameter('extra', `must be an integer from 0 to ${4 * n} (fountain parts after the ${n} pure ones)`);
  }
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(encoder.nextPart().toUpperCase());
  if (extra === 0) return parts;
  // The first `extra` mixed parts (seq n+1..n+extra); then, while some fragment is in none of
  // them, the part of the next few hundred that mixes the most such fragments (the fewest
  // fragments on a tie). Every fragment then is in a mixed part: whichever single pure frame a
  // reader misses, the mixed part holding it gives it back (XOR with the others it has).
  const checksum = getCRC(encoder.cbor);
  const uncovered = new Set<number>(Array.from({ length: n }, (_, i) => i));
  for (let seq = n + 1; seq <= n + extra; seq++) {
    parts.push(encoder.nextPart().toUpperCase());
    for (const i of chooseFragments(seq, n, checksum)) uncovered.delete(i);
  }
  const window = Math.min(Math.max(4 * n, 64), 512);
  const candidates: { seq: number; text: string; indexes: number[] }[] = [];
  for (let seq = n + extra + 1; seq <= n + extra + window; seq++) {
    candidates.push({ seq, text: encoder.nextPart().toUpperCase(), indexes: chooseFragments(seq, n, checksum) });
  }
  while (uncovered.size > 0) {
    let best: (typeof candidates)[number] | undefined;
    let bestGain = 0;
    for (const candidate of candidates) {
      const gain = candidate.indexes.filter((i) => uncovered.has(i)).length;
      if (gain > bestGain || (gain === bestGain && gain > 0 && best !== undefined && candidate.indexes.length < best.indexes.length)) {
        best = candidate;
        bestGain = gain;
      }
    }
    if (best === undefined) break; // not seen: in a window this long every fragment is in some part
    parts.push(best.text);
    for (const i of best.indexes) uncovered.delete(i);
  }
  return parts;
}

/**
 * The most parts a message of at most `maxBytes` bytes may arrive in: its pure fragments at
 * FRAGMENT_BYTES, twice (urFrames sends n pure and about n/2 mixed parts), and a few more. A
 * request (MAX_REQUEST_BYTES) is 2114 parts, a response (MAX_RESPONSE_BYTES) 8406: more parts than
 * that (a directory of 20 000 PNGs, each decoded) is not a message of ours.
 */
export function maxParts(maxBytes: number): number {
  return Math.ceil(maxCbor(maxBytes) / FRAGMENT_BYTES) * 2 + 16;
}

export interface FrameProgress {
  /** The message is whole: result() gives it. */
  readonly complete: boolean;
  /** 0..1: the share of the pure fragments known (recovered from mixed parts too). */
  readonly progress: number;
  /** Distinct parts accepted so far (duplicates do not count). */
  readonly frames: number;
  /** How many pure fragments the message has (1 for a single-part UR); unknown before the first part. */
  readonly expected?: number;
}

/** What identifies the message a part belongs to. */
interface MessageId {
  readonly single?: string;
  readonly seqLength?: number;
  readonly messageLength?: number;
  readonly checksum?: number;
}

/** One part, checked: its sequence and its decoded fountain header, or the whole body of a single part. */
interface ParsedPart {
  readonly text: string;
  readonly id: MessageId;
  readonly seq?: string;
}

function describeId(id: MessageId): string {
  return id.single !== undefined
    ? 'a single-part message'
    : `a ${id.seqLength}-fragment message of ${id.messageLength} bytes, checksum ${(id.checksum ?? 0).toString(16).padStart(8, '0')}`;
}

function sameId(a: MessageId, b: MessageId): boolean {
  return a.single === b.single && a.seqLength === b.seqLength && a.messageLength === b.messageLength && a.checksum === b.checksum;
}

/**
 * Reassembles a message from its UR parts (what a QR reader gives for each frame). Parts come in
 * any order and case, duplicates are ignored; a refused part changes nothing (the assembler keeps
 * what it had).
 */
export class FrameAssembler {
  private decoder = new URDecoder();
  private readonly seen = new Set<string>();
  private message: MessageId | undefined;
  private readonly maxBytes: number;

  /** `maxBytes`: the largest message accepted (default MAX_RESPONSE_BYTES; MAX_REQUEST_BYTES for a request). */
  constructor(maxBytes: number = MAX_RESPONSE_BYTES) {
    this.maxBytes = maxBytes;
  }

  private parse(input: unknown): ParsedPart {
    if (typeof input !== 'string') throw malformed(`a QR frame must be text, got ${input === null ? 'null' : typeof input}`);
    const text = input.trim().toLowerCase();
    // A part is at most 2 letters a byte of CBOR (+ its 4-byte CRC) plus its prefix and sequence.
    const longest = 2 * (maxCbor(this.maxBytes) + 4) + 64;
    if (text.length > longest) throw malformed(`a QR frame of ${text.length} characters is longer than any UR part of a message of at most ${this.maxBytes} bytes`);
    if (!text.startsWith(UR_PREFIX)) {
      if (text.startsWith('ur:')) {
        const type = text.slice(3).split('/')[0] ?? '';
        throw malformed(`the QR frame is a UR of type ${quote(type)}, not "bytes" (not a DeskKMS request or response)`);
      }
      throw malformed(`the QR frame is not a UR "bytes" part (UR:BYTES/...): got ${quote(input.trim())}`);
    }
    const components = text.slice(UR_PREFIX.length).split('/');
    const body = components.at(-1) ?? '';
    if (components.length > 2 || !/^[a-z]{2,}$/.test(body) || body.length % 2 !== 0) {
      throw malformed(`the QR frame is not a well-formed UR "bytes" part: got ${quote(input.trim())}`);
    }
    const seq = components.length === 2 ? components[0]! : undefined;
    const match = seq === undefined ? null : /^([1-9][0-9]{0,9})-([1-9][0-9]{0,9})$/.exec(seq);
    if (seq !== undefined && !match) throw malformed(`the QR frame's sequence ${quote(seq)} is not "<number>-<count>"`);
    let decoded: unknown;
    try {
      // Bytewords (minimal) to bytes, checking the part's own CRC-32; then its CBOR.
      decoded = URDecoder.decode(`ur:bytes/${body}`).decodeCBOR();
    } catch {
      throw malformed(`the QR frame's UR body is damaged (not bytewords, or its checksum fails): got ${quote(input.trim())}`);
    }
    if (seq === undefined || !match) {
      if (!Buffer.isBuffer(decoded)) throw malformed('the single-part UR does not hold a byte string (not a DeskKMS request or response)');
      if (decoded.length > this.maxBytes) throw malformed(`the QR message is ${decoded.length} bytes, over the ${this.maxBytes} allowed`);
      return { text, id: { single: body } };
    }
    const seqNum = Number(match[1]);
    const seqLength = Number(match[2]);
    if (
      !Array.isArray(decoded) ||
      decoded.length < 5 ||
      decoded[0] !== seqNum ||
      decoded[1] !== seqLength ||
      typeof decoded[2] !== 'number' ||
      typeof decoded[3] !== 'number' ||
      !Buffer.isBuffer(decoded[4]) ||
      decoded[4].length === 0
    ) {
      throw malformed(`the QR frame ${seq} is not a fountain-coded UR part (its header does not match its sequence)`);
    }
    const messageLength = decoded[2];
    const fragmentLength = decoded[4].length;
    if (messageLength > maxCbor(this.maxBytes)) {
      throw malformed(`the QR message is ${messageLength} bytes, over the ${this.maxBytes} allowed`);
    }
    if (!Number.isInteger(messageLength) || messageLength < 1 || seqLength !== Math.ceil(messageLength / fragmentLength)) {
      throw malformed(`the QR frame ${seq} is inconsistent: ${seqLength} fragments of ${fragmentLength} bytes cannot hold ${messageLength} bytes`);
    }
    return { text, seq, id: { seqLength, messageLength, checksum: decoded[3] } };
  }

  /** Takes one part (a QR frame's text). Request.Malformed for anything but a part of this message. */
  receive(text: string): FrameProgress {
    const part = this.parse(text);
    if (this.message !== undefined && !sameId(this.message, part.id)) {
      throw malformed(
        `QR frames of two different messages are mixed: this frame${part.seq ? ` (${part.seq})` : ''} is part of ${describeId(part.id)}, ` +
          `the frames before of ${describeId(this.message)}; scan one request or response at a time`,
      );
    }
    if (!this.seen.has(part.text) && !this.decoder.isComplete()) {
      let accepted: boolean;
      try {
        accepted = this.decoder.receivePart(part.text);
      } catch {
        throw malformed(`the QR frame${part.seq ? ` ${part.seq}` : ''} cannot be decoded as a UR part`);
      }
      if (!accepted) throw malformed(`the QR frame${part.seq ? ` ${part.seq}` : ''} does not fit the frames before it (another fragment size)`);
      if (this.decoder.isError()) {
        // Every fragment is known but the whole fails its CRC-32: some frame was forged or damaged.
        this.decoder = new URDecoder();
        this.seen.clear();
        this.message = undefined;
        throw malformed('the QR frames reassemble to a message whose checksum fails (a damaged or forged frame); scan again from the start');
      }
      this.message ??= part.id;
      this.seen.add(part.text);
    }
    return this.progress();
  }

  /** Where reassembly stands. */
  progress(): FrameProgress {
    const complete = this.decoder.isComplete() === true;
    const expected = this.message === undefined ? undefined : this.message.single !== undefined ? 1 : this.message.seqLength;
    return {
      complete,
      progress: complete ? 1 : this.message === undefined ? 0 : this.decoder.getProgress(),
      frames: this.seen.size,
      ...(expected !== undefined ? { expected } : {}),
    };
  }

  /** The message's bytes; Request.Malformed while frames are missing. */
  result(): Uint8Array {
    if (this.decoder.isError()) throw malformed('the QR frames reassemble to a message whose checksum fails');
    if (this.decoder.isComplete() !== true) {
      const p = this.progress();
      throw malformed(
        p.expected === undefined
          ? 'no QR frame of a request or response was read'
          : `the QR frames are incomplete: ${this.decoder.receivedPartIndexes().length} of the ${p.expected} fragments known from ${p.frames} frames; scan the missing ones`,
      );
    }
    const ur = this.decoder.resultUR();
    let bytes: unknown;
    try {
      bytes = ur.decodeCBOR();
    } catch {
      throw malformed('the QR message is not a CBOR byte string');
    }
    if (!Buffer.isBuffer(bytes)) throw malformed('the QR message is not a CBOR byte string (not a DeskKMS request or response)');
    if (bytes.length > this.maxBytes) throw malformed(`the QR message is ${bytes.length} bytes, over the ${this.maxBytes} allowed`);
    return new Uint8Array(bytes);
  }
}

/** Where reassembly stood after the parts given, and the message once complete. */
export interface AssembledParts extends FrameProgress {
  readonly bytes?: Uint8Array;
}

/**
 * Reassembles a message of at most `maxBytes` bytes from its parts, each `[where, text]` (where:
 * what a refusal names, e.g. "Parts[3]" or a file). The one rule for every reader (a pasted text,
 * a camera's parts, a text file, a directory of PNGs): every part is taken, also after the message
 * is complete; a part of the same message is fine, a part of ANOTHER message is refused
 * (Request.Malformed), so one input holds one message. More than maxParts(maxBytes) parts are
 * refused before the next is read. An incomplete set is not an error here: see `complete`.
 */
export async function assembleParts(
  parts: Iterable<readonly [string, string]> | AsyncIterable<readonly [string, string]>,
  maxBytes: number,
): Promise<AssembledParts> {
  const assembler = new FrameAssembler(maxBytes);
  const most = maxParts(maxBytes);
  let count = 0;
  for await (const [where, text] of parts) {
    if (++count > most) throw malformed(`${where}: more than ${most} QR parts, more than a message of at most ${maxBytes} bytes has`);
    try {
      assembler.receive(text);
    } catch (error) {
      if (error instanceof KmsError) throw new KmsError(error.code, `${where}: ${error.message}`);
      throw error;
    }
  }
  const state = assembler.progress();
  return state.complete ? { ...state, bytes: assembler.result() } : state;
}

/** One frame's QR code as a PNG (error correction M, 8 px a module, 4-module quiet zone). */
export async function qrPng(text: string): Promise<Uint8Array> {
  const png = await QRCode.toBuffer(text, { ...QR_OPTIONS, type: 'png', scale: PNG_SCALE });
  return new Uint8Array(png.buffer, png.byteOffset, png.length);
}

/** The QR version (1..40) a frame's text makes with the frames' options (figures and tests). */
export function qrVersion(text: string): number {
  return QRCode.create(text, QR_OPTIONS).version;
}

/**
 * The frame as a terminal QR (qrcode's small terminal rendering: half blocks, black on white set
 * explicitly, so it reads on a dark terminal too), or undefined when its width (modules + 2) does
 * not fit `columns`.
 */
export async function terminalQr(text: string, columns: number): Promise<string | undefined> {
  const size = QRCode.create(text, QR_OPTIONS).modules.size;
  if (!(size + 2 <= columns)) return undefined;
  return QRCode.toString(text, { ...QR_OPTIONS, type: 'terminal', small: true });
}

/**
 * Largest picture decodeQrPng decodes (pixels): 4 M (2000 x 2000). Our frames are ~650 px square; a
 * phone photo is to be downscaled. jsQR takes ~350 MB and seconds on a blank 40 M-pixel picture.
 */
export const MAX_PNG_PIXELS = 4_000_000;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The text of the QR code in a PNG (pngjs + jsQR), or undefined when it is not a PNG or holds no readable code. */
export function decodeQrPng(bytes: Uint8Array): string | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buffer.length < 24 || !buffer.subarray(0, 8).equals(PNG_SIGNATURE)) return undefined;
  // IHDR comes first: width and height before anything is inflated.
  const width = buffer.readUInt32BE(16);
  const height = buffer.readUInt32BE(20);
  if (width === 0 || height === 0 || width * height > MAX_PNG_PIXELS) return undefined;
  let image: PNG;
  try {
    image = PNG.sync.read(buffer);
  } catch {
    return undefined;
  }
  const data = new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length);
  return jsQR(data, image.width, image.height)?.data ?? undefined;
}

/**
 * Writes each frame as DIR/STEM-01.png, STEM-02.png... (zero-padded to two digits at least), each
 * atomically (a temporary file, then a rename), creating DIR. Frames STEM-NN.png of an earlier, longer
 * set in DIR are removed: a directory of frames must hold one message. Returns the paths written.
 */
export async function writeQrPngs(frames: readonly string[], dir: string, stem: string): Promise<string[]> {
  // eslint-disable-next-line no-control-regex
  if (stem === '' || /[/\\\u0000-\u001f\u007f]/.test(stem) || stem === '.' || stem === '..') {
    throw invalidParameter('stem', `${quote(stem)} must be a file name without a directory or control characters`);
  }
  if (frames.length === 0) throw invalidParameter('frames', 'no QR frame to write');
  const width = Math.max(2, String(frames.length).length);
  const name = (i: number): string => `${stem}-${String(i + 1).padStart(width, '0')}.png`;
  const where = `the QR frames directory ${escapeText(dir, 200)}`;
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (error) {
    throw invalidParameter(where, `cannot create the directory (${describeFsError(error)})`);
  }
  const paths: string[] = [];
  const written = new Set<string>();
  for (const [i, frame] of frames.entries()) {
    const png = await qrPng(frame);
    const path = join(dir, name(i));
    try {
      await writeFileAtomically(path, png, { mode: 0o644, replace: true, exists: () => invalidParameter(where, 'exists') });
    } catch (error) {
      if (error instanceof KmsError) throw error;
      throw invalidParameter(where, `cannot write ${escapeText(name(i), 200)} (${describeFsError(error)})`);
    }
    paths.push(path);
    written.add(name(i));
  }
  const escapedStem = stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const stale = new RegExp(`^${escapedStem}-[0-9]+\\.png$`);
  for (const entry of await fs.readdir(dir)) {
    if (stale.test(entry) && !written.has(entry)) await fs.rm(join(dir, entry), { force: true });
  }
  return paths;
}
