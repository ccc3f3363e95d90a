// Requests and responses as QR frames, read back by a program nobody here wrote: Debian's zbarimg
// (zbar-tools) decodes every PNG frame, and what it reads reassembles to exactly the bytes sent.
// jsQR (what the app's webcam view uses) must read the same text from each frame.
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FountainEncoderPart as FountainEncoderPartClass } from '@ngraveio/bc-ur/dist/fountainEncoder.js';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsError } from '../contract/errors.ts';
import { readCarried } from './carried.ts';
import { FRAGMENT_BYTES, FrameAssembler, MAX_PNG_PIXELS, assembleParts, decodeQrPng, maxParts, qrPng, qrVersion, terminalQr, urFrames, writeQrPngs } from './qr.ts';
import {
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
  REQUEST_TYPE,
  REQUEST_VERSION,
  RESPONSE_TYPE,
  signingRequestSchema,
  signingResponseSchema,
} from '../contract/signing-requests.ts';

const run = promisify(execFile);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deskkms-qr-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * What zbarimg reads from an image: one line per symbol (exit 4 when it finds none). QR codes only:
 * with every symbology on, zbar now and then also "finds" a short Interleaved 2 of 5 or Codabar
 * code in a QR code's modules (3 frames in 1878 measured), an extra line no QR reader would give.
 */
async function zbar(file: string): Promise<string> {
  const { stdout } = await run('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', file]);
  return stdout.replace(/\n$/, '');
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

const ARTIFACTS = [
  'deskkms-1.4.0-linux-x86_64.tar.gz',
  'deskkms-1.4.0-linux-aarch64.tar.gz',
  'deskkms-1.4.0-macos-universal.dmg',
  'deskkms-1.4.0-windows-x64.msi',
  'deskkms_1.4.0_amd64.deb',
  'deskkms_1.4.0_arm64.deb',
  'deskkms-1.4.0-1.x86_64.rpm',
  'deskkms-1.4.0.AppImage',
  'deskkms-1.4.0-src.tar.gz',
  'SHA256SUMS',
];

/** A realistic 10-artifact request, as the contract's schema shapes it (compact JSON, one trailing newline). */
function tenArtifactRequest(): Uint8Array {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const request = signingRequestSchema.parse({
    Type: REQUEST_TYPE,
    Version: REQUEST_VERSION,
    RequestId: randomUUID(),
    Created: new Date().toISOString(),
    Key: 'alias/release-signing',
    KeyVersionId: randomUUID(),
    PublicKey: b64(publicKey.export({ format: 'der', type: 'spki' })),
    Format: 'ssh',
    Options: { Namespace: 'file' },
    Note: 'DeskKMS 1.4.0 release artifacts, built by CI run 8812 from tag v1.4.0 (commit 3f9c2e1); sign for the download page.',
    Files: ARTIFACTS.map((Name, i) => {
      const content = randomBytes(64 + i);
      return {
        Name,
        Size: 48_000_000 + i * 1_234_567,
        Sha256: hex(createHash('sha256').update(content).digest()),
        Prepared: {
          Sha256: b64(createHash('sha256').update(content).digest()),
          Sha512: b64(createHash('sha512').update(content).digest()),
        },
      };
    }),
  });
  return new TextEncoder().encode(`${JSON.stringify(request)}\n`);
}

/** A real OpenPGP certificate (gpg, RSA 2048, armored) of about 1.2 KiB. */
async function openPgpCertificate(): Promise<string> {
  const home = join(dir, 'gnupg');
  await mkdir(home, { mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: home };
  await run('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'Release Signing <release@example.org>', 'rsa2048', 'sign', 'never'], { env });
  const { stdout } = await run('gpg', ['--batch', '--armor', '--export', 'release@example.org'], { env });
  return stdout;
}

/** A response to it: 10 ECDSA P-256 signatures (DER, ~100 base64 characters each) and the certificate. */
function tenSignatureResponse(certificate: string): Uint8Array {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const response = signingResponseSchema.parse({
    Type: RESPONSE_TYPE,
    Version: REQUEST_VERSION,
    RequestId: randomUUID(),
    RequestSha256: hex(randomBytes(32)),
    Approved: new Date().toISOString(),
    Format: 'openpgp',
    KeyId: randomUUID(),
    KeyVersionId: randomUUID(),
    KeySpec: 'EC_P256',
    PublicKey: b64(publicKey.export({ format: 'der', type: 'spki' })),
    PublicMaterial: { OpenPgpCertificate: certificate },
    Files: ARTIFACTS.map((Name) => {
      const content = randomBytes(100);
      return { Name, Sha256: hex(createHash('sha256').update(content).digest()), Signature: b64(sign('sha256', content, privateKey)) };
    }),
  });
  return new TextEncoder().encode(`${JSON.stringify(response)}\n`);
}

function assemble(frames: readonly string[], maxBytes?: number): Uint8Array {
  const assembler = new FrameAssembler(maxBytes);
  for (const frame of frames) assembler.receive(frame);
  return assembler.result();
}

function refusal(action: () => unknown): KmsError {
  try {
    action();
  } catch (error) {
    if (error instanceof KmsError) return error;
    throw new Error(`expected a KmsError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a refusal');
}

async function asyncRefusal(promise: Promise<unknown>): Promise<KmsError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KmsError) return error;
    throw new Error(`expected a KmsError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a refusal');
}

/** Shuffles a copy (Fisher-Yates over crypto randomness). */
function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = randomBytes(4).readUInt32BE(0) % (i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/** Pure parts carry "seq-n" with seq <= n. */
function isPure(frame: string): boolean {
  const m = /^UR:BYTES\/(\d+)-(\d+)\//.exec(frame);
  return m !== null && Number(m[1]) <= Number(m[2]);
}

/**
 * Writes the frames as PNGs, has zbarimg and jsQR read every one, and checks both read exactly the
 * frame, then that zbarimg's texts reassemble to the bytes. Returns the figures.
 */
async function roundTripThroughZbar(bytes: Uint8Array, stem: string): Promise<{ frames: number; pure: number; versions: number[]; pngs: string[] }> {
  const frames = urFrames(bytes);
  const pngs = await writeQrPngs(frames, join(dir, stem), stem);
  expect(pngs).toHaveLength(frames.length);
  const read = await Promise.all(pngs.map((png) => zbar(png)));
  for (const [i, png] of pngs.entries()) {
    expect(png.endsWith(`${stem}-${String(i + 1).padStart(2, '0')}.png`)).toBe(true);
    expect(read[i], `zbarimg on ${png}`).toBe(frames[i]);
    expect(decodeQrPng(await readFile(png)), `jsQR on ${png}`).toBe(read[i]);
  }
  expect(Buffer.from(assemble(read)).equals(Buffer.from(bytes))).toBe(true);
  return { frames: frames.length, pure: frames.filter(isPure).length, versions: frames.map(qrVersion), pngs };
}

describe('QR frames read by zbarimg', () => {
  it('carries a realistic 10-artifact request: every PNG frame decodes and the parts reassemble to the same bytes', async () => {
    const bytes = tenArtifactRequest();
    const { frames, pure, versions } = await roundTripThroughZbar(bytes, 'request');
    console.log(
      `QR figures: 10-artifact request of ${bytes.length} bytes -> ${frames} frames (${pure} pure + ${frames - pure} fountain), ` +
        `QR versions ${Math.min(...versions)}..${Math.max(...versions)} at error correction M, ${FRAGMENT_BYTES} bytes a fragment`,
    );
    // Measured: 3526 bytes -> 15 pure + 8 or 9 fountain = 23 or 24 frames (25 in 2 of 3000 draws:
    // the fountain's choices depend on the message's checksum), version 14 at M. Small headroom:
    expect(pure).toBeLessThanOrEqual(16);
    expect(frames).toBeLessThanOrEqual(26);
    expect(frames - pure).toBeGreaterThanOrEqual(Math.ceil(pure / 2));
    // Version 15 at M is 77 modules: its terminal rendering still fits 80 columns.
    expect(Math.max(...versions)).toBeLessThanOrEqual(15);
  });

  it('carries a response (10 ECDSA signatures and an OpenPGP certificate) the same way', async () => {
    const certificate = await openPgpCertificate();
    expect(certificate).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    const bytes = tenSignatureResponse(certificate);
    const { frames, pure, versions } = await roundTripThroughZbar(bytes, 'response');
    console.log(
      `QR figures: response (10 ECDSA signatures + ${certificate.length}-character OpenPGP certificate) of ${bytes.length} bytes -> ` +
        `${frames} frames (${pure} pure + ${frames - pure} fountain), QR versions ${Math.min(...versions)}..${Math.max(...versions)}`,
    );
    expect(Math.max(...versions)).toBeLessThanOrEqual(15);
  });

  it('carries a small message as one single-part frame', async () => {
    const bytes = new TextEncoder().encode('{"Type":"deskkms-signing-request"}\n');
    const frames = urFrames(bytes);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatch(/^UR:BYTES\/[A-Z]+$/);
    // Alphanumeric mode: the whole part is in QR's 45-character set.
    expect(frames[0]).toMatch(/^[0-9A-Z $%*+\-./:]+$/);
    expect(QRCode.create(frames[0]!, { errorCorrectionLevel: 'M' }).segments.map((s) => s.mode.id)).toEqual(['Alphanumeric']);
    const [png] = await writeQrPngs(frames, join(dir, 'single'), 'req');
    expect(png).toBe(join(dir, 'single', 'req-01.png'));
    expect(await zbar(png!)).toBe(frames[0]);
    const assembler = new FrameAssembler();
    expect(assembler.receive(frames[0]!)).toEqual({ complete: true, progress: 1, frames: 1, expected: 1 });
    expect(assembler.result()).toEqual(bytes);
  });
});

describe('FrameAssembler', () => {
  const bytes = randomBytes(3000);
  const frames = urFrames(bytes);
  const pure = frames.filter(isPure);
  const mixed = frames.filter((f) => !isPure(f));

  it('reassembles from frames in any order, case and spacing, counting each once', () => {
    expect(pure.length).toBe(Math.ceil((bytes.length + 3) / FRAGMENT_BYTES));
    expect(mixed.length).toBeGreaterThanOrEqual(Math.ceil(pure.length / 2));
    const assembler = new FrameAssembler();
    const order = shuffled(pure);
    let last;
    for (const [i, frame] of order.entries()) {
      const text = i % 2 === 0 ? frame.toLowerCase() : `  ${frame}\r\n`;
      last = assembler.receive(text);
      // A duplicate changes nothing.
      expect(assembler.receive(frame)).toEqual(last);
      expect(last.frames).toBe(i + 1);
      expect(last.expected).toBe(pure.length);
      if (i < order.length - 1) {
        expect(last.complete).toBe(false);
        expect(last.progress).toBeCloseTo((i + 1) / pure.length, 5);
        expect(() => assembler.result()).toThrow(/incomplete/);
      }
    }
    expect(last).toEqual({ complete: true, progress: 1, frames: pure.length, expected: pure.length });
    expect(Buffer.from(assembler.result()).equals(bytes)).toBe(true);
  });

  it('completes with any one pure frame missing when the fountain parts are there, and not without them', () => {
    for (let drop = 0; drop < pure.length; drop++) {
      const kept = pure.filter((_, i) => i !== drop);
      expect(Buffer.from(assemble(shuffled([...kept, ...mixed]))).equals(bytes)).toBe(true);
      const error = refusal(() => assemble(kept));
      expect(error.code).toBe('Request.Malformed');
      expect(error.message).toContain(`${pure.length - 1} of the ${pure.length} fragments`);
    }
  });

  it('refuses text that is not a UR "bytes" part, naming what it got, escaped and cut', () => {
    const assembler = new FrameAssembler();
    for (const [text, expected] of [
      ['hello world', /not a UR "bytes" part .*"hello world"/],
      ['\u001b[31mRED\u202e', /"\\x1B\[31mRED\\u202E"/],
      ['https://example.org/' + 'x'.repeat(500), /"https:\/\/example\.org\/x+\\…"/],
      ['UR:BYTES/', /not a well-formed UR/],
      ['UR:BYTES/1-2/3/LPAD', /not a well-formed UR/],
      ['UR:BYTES/ABC', /not a well-formed UR/],
      ['UR:BYTES/X-Y/LPADAXAOCX', /sequence "x-y"/],
    ] as const) {
      const error = refusal(() => assembler.receive(text));
      expect(error.code, text).toBe('Request.Malformed');
      expect(error.message, text).toMatch(expected);
    }
    expect(refusal(() => assembler.receive(42 as unknown as string)).message).toMatch(/must be text, got number/);
    // Nothing was taken.
    expect(assembler.progress()).toEqual({ complete: false, progress: 0, frames: 0 });
    expect(refusal(() => assembler.result()).message).toMatch(/no QR frame/);
  });

  it('refuses a damaged part (a letter changed: the part CRC fails)', () => {
    const frame = pure[0]!;
    const i = frame.length - 10;
    const damaged = frame.slice(0, i) + (frame[i] === 'A' ? 'E' : 'A') + frame.slice(i + 1);
    const error = refusal(() => new FrameAssembler().receive(damaged));
    expect(error.code).toBe('Request.Malformed');
    expect(error.message).toMatch(/damaged/);
  });

  it('refuses a UR of another type, naming it', () => {
    const foreign = urFrames(randomBytes(40))[0]!.replace('UR:BYTES/', 'UR:CRYPTO-PSBT/');
    const error = refusal(() => new FrameAssembler().receive(foreign));
    expect(error.code).toBe('Request.Malformed');
    expect(error.message).toMatch(/type "crypto-psbt", not "bytes"/);
  });

  it('refuses parts of two different messages, and keeps what it had', () => {
    const other = urFrames(randomBytes(3000));
    const assembler = new FrameAssembler();
    assembler.receive(pure[0]!);
    const error = refusal(() => assembler.receive(other[1]!));
    expect(error.code).toBe('Request.Malformed');
    expect(error.message).toMatch(/two different messages are mixed/);
    expect(assembler.progress().frames).toBe(1);
    for (const frame of pure.slice(1)) assembler.receive(frame);
    expect(Buffer.from(assembler.result()).equals(bytes)).toBe(true);
    // After completion too, and between two single-part messages.
    expect(refusal(() => assembler.receive(other[0]!)).message).toMatch(/two different messages/);
    const single = new FrameAssembler();
    single.receive(urFrames(randomBytes(20))[0]!);
    expect(refusal(() => single.receive(urFrames(randomBytes(20))[0]!)).message).toMatch(/two different messages/);
  });

  it('refuses a message over its limit, from the first part', () => {
    const big = urFrames(randomBytes(5000));
    const error = refusal(() => new FrameAssembler(4096).receive(big[0]!));
    expect(error.code).toBe('Request.Malformed');
    expect(error.message).toMatch(/over the 4096 allowed/);
    const single = urFrames(randomBytes(200));
    expect(single).toHaveLength(1);
    expect(refusal(() => new FrameAssembler(190).receive(single[0]!)).message).toMatch(/200 bytes, over the 190 allowed/);
    expect(refusal(() => new FrameAssembler(100).receive(single[0]!)).message).toMatch(/longer than any UR part of a message of at most 100 bytes/);
  });

  it('refuses frames that reassemble to a message whose checksum fails (a forged fragment)', () => {
    // A part with the same header (length, checksum, fragment count) but another fragment, with a
    // valid per-part CRC: only the message checksum can catch it.
    const require = createRequire(import.meta.url);
    const { FountainEncoderPart } = require('@ngraveio/bc-ur/dist/fountainEncoder.js') as { FountainEncoderPart: typeof FountainEncoderPartClass };
    const bytewords = (require('@ngraveio/bc-ur/dist/bytewords.js') as { default: { decode: (s: string, style: 'minimal') => string; encode: (s: string, style: 'minimal') => string } }).default;
    const seq = /^UR:BYTES\/(\d+-\d+)\//.exec(pure[0]!)![1]!;
    const body = pure[0]!.slice(`UR:BYTES/${seq}/`.length).toLowerCase();
    const real = FountainEncoderPart.fromCBOR(Buffer.from(bytewords.decode(body, 'minimal'), 'hex'));
    const fragment = Buffer.from(real.fragment);
    fragment[0]! ^= 0xff;
    const forgedPart = new FountainEncoderPart(real.seqNum, real.seqLength, real.messageLength, real.checksum, fragment);
    const forged = `UR:BYTES/${seq}/${bytewords.encode(forgedPart.cbor().toString('hex'), 'minimal').toUpperCase()}`;
    const assembler = new FrameAssembler();
    assembler.receive(forged);
    const rest = pure.slice(1);
    for (const frame of rest.slice(0, -1)) assembler.receive(frame);
    const error = refusal(() => assembler.receive(rest.at(-1)!));
    expect(error.code).toBe('Request.Malformed');
    expect(error.message).toMatch(/checksum fails/);
    // It starts again: the real frames now complete it.
    for (const frame of pure) assembler.receive(frame);
    expect(Buffer.from(assembler.result()).equals(bytes)).toBe(true);
  });

  it('urFrames refuses a fragment size out of range and a message over the response limit', () => {
    expect(refusal(() => urFrames(bytes, { fragment: 5 })).code).toBe('InvalidParameter');
    expect(refusal(() => urFrames(new Uint8Array(1024 * 1024 + 1))).code).toBe('Request.Malformed');
    expect(urFrames(bytes, { extra: 0 })).toEqual(pure);
  });
});

/**
 * What a terminal shows for `text` (ANSI colours: 30/40 black, 37/47 white, 0 reset to the terminal's
 * own colours), as a PNG of 2 pixel rows a character cell, scaled; `background` is the terminal's own
 * background (dark or light) around and under the code.
 */
function terminalPicture(text: string, background: 'dark' | 'light'): { png: Buffer; columns: number } {
  const own = background === 'dark' ? 0x20 : 0xf0;
  const rows: number[][] = [];
  let fg = background === 'dark' ? 0xd0 : 0x20;
  let bg = own;
  let columns = 0;
  for (const line of text.split('\n')) {
    const top: number[] = [];
    const bottom: number[] = [];
    // eslint-disable-next-line no-control-regex
    for (const token of line.match(/\u001b\[[0-9;]*m|[^\u001b]/gu) ?? []) {
      if (token.startsWith('\u001b')) {
        for (const code of token.slice(2, -1).split(';').map(Number)) {
          if (code === 0) [fg, bg] = [background === 'dark' ? 0xd0 : 0x20, own];
          else if (code === 30) fg = 0;
          else if (code === 37) fg = 0xff;
          else if (code === 40) bg = 0;
          else if (code === 47) bg = 0xff;
        }
        continue;
      }
      top.push(token === '█' || token === '▀' ? fg : bg);
      bottom.push(token === '█' || token === '▄' ? fg : bg);
    }
    if (top.length === 0) continue;
    columns = Math.max(columns, top.length);
    rows.push(top, bottom);
  }
  const margin = 6;
  const scale = 6;
  const width = (columns + 2 * margin) * scale;
  const height = (rows.length + 2 * margin) * scale;
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const row = rows[Math.floor(y / scale) - margin];
      const value = row?.[Math.floor(x / scale) - margin] ?? own;
      const offset = (y * width + x) * 4;
      png.data[offset] = png.data[offset + 1] = png.data[offset + 2] = value;
      png.data[offset + 3] = 255;
    }
  }
  return { png: PNG.sync.write(png), columns };
}

describe('terminal QR', () => {
  it('fits an 80-column terminal and zbarimg reads it on a dark and on a light terminal', async () => {
    const frame = urFrames(randomBytes(3000))[0]!;
    const text = await terminalQr(frame, 80);
    expect(text).toBeDefined();
    for (const background of ['dark', 'light'] as const) {
      const { png, columns } = terminalPicture(text!, background);
      expect(columns).toBe(QRCode.create(frame, { errorCorrectionLevel: 'M' }).modules.size + 2);
      expect(columns).toBeLessThanOrEqual(80);
      const file = join(dir, `terminal-${background}.png`);
      await writeFile(file, png);
      expect(await zbar(file), background).toBe(frame);
    }
    expect(await terminalQr(frame, 60)).toBeUndefined();
  });
});

describe('PNG frames', () => {
  it('writeQrPngs writes zero-padded names, replaces an earlier longer set, keeps other files, refuses a bad stem', async () => {
    const out = join(dir, 'frames');
    await mkdir(out);
    await writeFile(join(out, 'keep-01.png'), 'not ours');
    await writeFile(join(out, 'notes.txt'), 'x');
    const long = urFrames(randomBytes(3000));
    await writeQrPngs(long, out, 'req');
    const short = urFrames(randomBytes(10));
    const paths = await writeQrPngs(short, out, 'req');
    expect(paths).toEqual([join(out, 'req-01.png')]);
    expect((await readdir(out)).sort()).toEqual(['keep-01.png', 'notes.txt', 'req-01.png']);
    expect(await zbar(paths[0]!)).toBe(short[0]);
    for (const stem of ['', '../x', 'a/b', 'a\u0000b', '..']) {
      expect((await asyncRefusal(writeQrPngs(short, out, stem))).code).toBe('InvalidParameter');
    }
  });

  it('decodeQrPng answers undefined for what is not a PNG or holds no code', async () => {
    expect(decodeQrPng(new TextEncoder().encode('not a png at all, but long enough'))).toBeUndefined();
    const blank = new PNG({ width: 64, height: 64 });
    blank.data.fill(255);
    expect(decodeQrPng(PNG.sync.write(blank))).toBeUndefined();
    const png = await qrPng('UR:BYTES/HDCXLKAHSSQZWFVSLOFZOXWKRSHP');
    expect(decodeQrPng(png)).toBe('UR:BYTES/HDCXLKAHSSQZWFVSLOFZOXWKRSHP');
    // A header claiming a huge picture is not inflated.
    const huge = Buffer.from(png);
    huge.writeUInt32BE(100_000, 16);
    huge.writeUInt32BE(100_000, 20);
    expect(decodeQrPng(huge)).toBeUndefined();
    // A real, blank picture just over the cap (2001 x 2000: 52 KB that jsQR would take a second
    // and ~100 MB over) is refused at once; one at the cap is decoded (no code in it).
    expect(MAX_PNG_PIXELS).toBe(4_000_000);
    const over = new PNG({ width: 2001, height: 2000 });
    over.data.fill(255);
    const overBytes = PNG.sync.write(over);
    const started = performance.now();
    expect(decodeQrPng(overBytes)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(50);
    // The same code drawn on a 2000 x 2000 canvas (at the cap) still reads.
    const small = PNG.sync.read(Buffer.from(png));
    const canvas = new PNG({ width: 2000, height: 2000 });
    canvas.data.fill(255);
    PNG.bitblt(small, canvas, 0, 0, small.width, small.height, 100, 100);
    expect(decodeQrPng(PNG.sync.write(canvas))).toBe('UR:BYTES/HDCXLKAHSSQZWFVSLOFZOXWKRSHP');
    const wider = new PNG({ width: 2001, height: 2000 });
    wider.data.fill(255);
    PNG.bitblt(small, wider, 0, 0, small.width, small.height, 100, 100);
    expect(decodeQrPng(PNG.sync.write(wider))).toBeUndefined();
  });
});

describe('assembleParts', () => {
  it('bounds the parts of a message: twice its fragments at FRAGMENT_BYTES, and 16 more', () => {
    expect(maxParts(MAX_REQUEST_BYTES)).toBe(Math.ceil((MAX_REQUEST_BYTES + 9) / FRAGMENT_BYTES) * 2 + 16);
    expect(maxParts(MAX_REQUEST_BYTES)).toBe(2114);
    expect(maxParts(MAX_RESPONSE_BYTES)).toBe(8406);
    // urFrames' own set fits with room (n pure + about n/2 mixed).
    const frames = urFrames(randomBytes(30_000));
    expect(frames.length).toBeGreaterThan(121);
    expect(frames.length).toBeLessThanOrEqual(maxParts(30_000) * 0.8);
  });

  it('takes every part, also after completion: the same message is fine, another is refused, naming its place', async () => {
    const bytes = randomBytes(1500);
    const frames = urFrames(bytes);
    const named = (list: readonly string[]) => list.map((text, i) => [`Parts[${i}]`, text] as const);
    const whole = await assembleParts(named([...frames, ...frames]), 4096);
    expect(whole.complete).toBe(true);
    expect(Buffer.from(whole.bytes!).equals(bytes)).toBe(true);
    const partial = await assembleParts(named(frames.slice(0, 2)), 4096);
    expect(partial.complete).toBe(false);
    expect(partial.bytes).toBeUndefined();
    expect(partial.frames).toBe(2);
    const other = urFrames(randomBytes(1500));
    const mixed = [...frames, other[0]!];
    const error = await asyncRefusal(assembleParts(named(mixed), 4096));
    expect(error.code).toBe('Request.Malformed');
    expect(error.message).toMatch(new RegExp(`^Parts\\[${frames.length}\\]: QR frames of two different messages are mixed`));
  });

  it('refuses more parts than maxParts before reading the next (a lazy source is not drained)', async () => {
    const frame = urFrames(randomBytes(100))[0]!;
    let read = 0;
    function* endless(): Generator<readonly [string, string]> {
      for (;;) {
        read++;
        yield [`frame ${read}`, frame];
      }
    }
    const error = await asyncRefusal(assembleParts(endless(), 1000));
    expect(error.code).toBe('Request.Malformed');
    expect(error.message).toBe(`frame ${maxParts(1000) + 1}: more than ${maxParts(1000)} QR parts, more than a message of at most 1000 bytes has`);
    expect(read).toBe(maxParts(1000) + 1);
  });
});

describe('readCarried', () => {
  let request: Uint8Array;
  let place: string;
  beforeAll(async () => {
    request = tenArtifactRequest();
    place = join(dir, 'carried');
    await mkdir(place);
  });

  it('reads the JSON file as its exact bytes', async () => {
    const file = join(place, 'release.request.json');
    await writeFile(file, request);
    expect(Buffer.from(await readCarried(file, 'request')).equals(Buffer.from(request))).toBe(true);
  });

  it('reads a text file of UR parts, one per line, blank lines and case ignored', async () => {
    const frames = urFrames(request);
    const file = join(place, 'parts.txt');
    await writeFile(file, `\n${shuffled(frames).map((f, i) => (i % 3 === 0 ? f.toLowerCase() : f)).join('\r\n\n')}\n\n`);
    expect(Buffer.from(await readCarried(file, 'request')).equals(Buffer.from(request))).toBe(true);
    const bad = join(place, 'bad.txt');
    await writeFile(bad, `${frames[0]}\nnot a part\n`);
    const error = await asyncRefusal(readCarried(bad, 'request'));
    expect(error.code).toBe('Request.Malformed');
    expect(error.message).toMatch(/bad\.txt line 2: .*"not a part"/);
    const incomplete = join(place, 'incomplete.txt');
    await writeFile(incomplete, frames.slice(0, 3).join('\n'));
    expect((await asyncRefusal(readCarried(incomplete, 'request'))).message).toMatch(/incomplete/);
  });

  it('reads a directory of PNG frames (zbarimg-checked above) in name order', async () => {
    const frames = urFrames(request);
    const frameDir = join(place, 'qr');
    await writeQrPngs(frames, frameDir, 'release');
    expect(Buffer.from(await readCarried(frameDir, 'request')).equals(Buffer.from(request))).toBe(true);
    // Another message's frame among them is refused, naming the file.
    const other = urFrames(tenArtifactRequest());
    await writeQrPngs([other[0]!], join(place, 'qr'), 'zz-other');
    const error = await asyncRefusal(readCarried(frameDir, 'request'));
    expect(error.code).toBe('Request.Malformed');
    expect(error.message).toMatch(/zz-other-01\.png: QR frames of two different messages are mixed/);
    // A PNG without a code is named.
    const blankDir = join(place, 'blank');
    await mkdir(blankDir);
    const blank = new PNG({ width: 32, height: 32 });
    blank.data.fill(255);
    await writeFile(join(blankDir, 'a.png'), PNG.sync.write(blank));
    expect((await asyncRefusal(readCarried(blankDir, 'request'))).message).toMatch(/a\.png: no QR code could be read/);
    const empty = join(place, 'empty');
    await mkdir(empty);
    expect((await asyncRefusal(readCarried(empty, 'response'))).message).toMatch(/without \*\.png/);
    // More PNG files than a request has frames: refused before one is decoded.
    const many = join(place, 'many');
    await mkdir(many);
    const tiny = PNG.sync.write(blank);
    for (let i = 0; i <= maxParts(MAX_REQUEST_BYTES); i++) await writeFile(join(many, `f${i}.png`), tiny);
    const tooMany = await asyncRefusal(readCarried(many, 'request'));
    expect(tooMany.code).toBe('Request.Malformed');
    expect(tooMany.message).toMatch(/2115 PNG files, more than any request has QR frames \(2114\)/);
  });

  it('refuses what it cannot read or is none of the three forms, naming the path', async () => {
    const missing = await asyncRefusal(readCarried(join(place, 'nope.json'), 'response'));
    expect(missing.code).toBe('InvalidParameter');
    expect(missing.message).toBe(`response ${join(place, 'nope.json')}: no such file`);
    const tooBig = join(place, 'big.json');
    await writeFile(tooBig, `{"x":"${'a'.repeat(MAX_REQUEST_BYTES)}"}`);
    const big = await asyncRefusal(readCarried(tooBig, 'request'));
    expect(big.code).toBe('Request.Malformed');
    expect(big.message).toMatch(/over the 262144 a request may be/);
    // The same bytes are within a response's limit.
    expect((await readCarried(tooBig, 'response')).length).toBe(MAX_REQUEST_BYTES + 8);
    const garbage = join(place, 'garbage.bin');
    await writeFile(garbage, 'Hello\u001b[2J, this is not a request\n');
    const g = await asyncRefusal(readCarried(garbage, 'request'));
    expect(g.code).toBe('Request.Malformed');
    expect(g.message).toMatch(/neither a request \(JSON\) nor its QR parts.*"Hello\\x1B\[2J/);
    const binary = join(place, 'binary.bin');
    await writeFile(binary, Buffer.from([0xff, 0xfe, 0x00, 0x80]));
    expect((await asyncRefusal(readCarried(binary, 'request'))).message).toMatch(/not UTF-8 text/);
  });
});
