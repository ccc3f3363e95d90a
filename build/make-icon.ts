// Draws the app icon: assets/icon.png (512x512 RGBA, the size electron-builder wants for every
// platform) and assets/icon.svg, from one description of the shapes, so the two never drift.
// The PNG is encoded by hand with node:zlib (no image tooling needed): `node build/make-icon.ts`.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

export const ICON_SIZE = 512;
const BACKGROUND = [0x1e, 0x3a, 0x5f] as const;
const KEY = [0xf2, 0xc1, 0x4e] as const;

interface Rect {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}
/** The key: a ring, a shaft and two teeth, on a rounded square. */
const RING = { cx: 176, cy: 256, outer: 92, inner: 42 };
const KEY_RECTS: readonly Rect[] = [
  { x: 244, y: 234, w: 196, h: 44 },
  { x: 360, y: 278, w: 34, h: 62 },
  { x: 406, y: 278, w: 34, h: 42 },
];
const CORNER = 104;

function inRoundedSquare(x: number, y: number): boolean {
  const cx = Math.min(Math.max(x, CORNER), ICON_SIZE - CORNER);
  const cy = Math.min(Math.max(y, CORNER), ICON_SIZE - CORNER);
  return (x - cx) ** 2 + (y - cy) ** 2 <= CORNER ** 2;
}

function inKey(x: number, y: number): boolean {
  const d2 = (x - RING.cx) ** 2 + (y - RING.cy) ** 2;
  if (d2 <= RING.outer ** 2 && d2 >= RING.inner ** 2) return true;
  return KEY_RECTS.some((r) => x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h);
}

/** RGBA pixels, 4x4 supersampled for smooth edges. */
export function iconPixels(): Uint8Array {
  const out = new Uint8Array(ICON_SIZE * ICON_SIZE * 4);
  const S = 4;
  for (let py = 0; py < ICON_SIZE; py++) {
    for (let px = 0; px < ICON_SIZE; px++) {
      let bg = 0;
      let key = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const x = px + (sx + 0.5) / S;
          const y = py + (sy + 0.5) / S;
          if (!inRoundedSquare(x, y)) continue;
          if (inKey(x, y)) key++;
          else bg++;
        }
      }
      const covered = bg + key;
      const i = (py * ICON_SIZE + px) * 4;
      if (covered === 0) continue;
      for (let c = 0; c < 3; c++) out[i + c] = Math.round((BACKGROUND[c]! * bg + KEY[c]! * key) / covered);
      out[i + 3] = Math.round((255 * covered) / (S * S));
    }
  }
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A PNG (8-bit RGBA, no interlace) of square RGBA pixels. */
export function encodePng(rgba: Uint8Array, size: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    raw.set(rgba.subarray(y * size * 4, (y + 1) * size * 4), y * (size * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array()),
  ]);
}

export function iconSvg(): string {
  const hex = (c: readonly number[]): string => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
  const rects = KEY_RECTS.map((r) => `    <rect x="${r.x}" y="${r.y}" width="${r.w}" height="${r.h}"/>`).join('\n');
  const ring = (RING.outer + RING.inner) / 2;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${ICON_SIZE}" height="${ICON_SIZE}" viewBox="0 0 ${ICON_SIZE} ${ICON_SIZE}">
  <title>DeskKMS</title>
  <rect width="${ICON_SIZE}" height="${ICON_SIZE}" rx="${CORNER}" fill="${hex(BACKGROUND)}"/>
  <g fill="${hex(KEY)}">
    <circle cx="${RING.cx}" cy="${RING.cy}" r="${ring}" fill="none" stroke="${hex(KEY)}" stroke-width="${RING.outer - RING.inner}"/>
${rects}
  </g>
</svg>
`;
}

if (import.meta.main) {
  const assets = new URL('../assets/', import.meta.url);
  writeFileSync(new URL('icon.png', assets), encodePng(iconPixels(), ICON_SIZE));
  writeFileSync(new URL('icon.svg', assets), iconSvg());
}
