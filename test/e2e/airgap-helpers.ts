// Helpers of the air-gap end-to-end specs: a signing request made as the online machine makes it
// (core/airgap/online.ts, no vault: real files streamed once), the response finished there
// (core/airgap/finish.ts) and each signature checked by OpenSSH (ssh-keygen -Y verify), QR
// images read by zbarimg, and a Y4M video of QR codes for Chromium's fake camera.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import QRCode from 'qrcode';
import { finishRequest } from '../../core/airgap/finish.ts';
import { createRequest } from '../../core/airgap/online.ts';

export const NAMESPACE = 'release@example.com';

export interface MadeRequest {
  readonly id: string;
  readonly bytes: Uint8Array;
  readonly text: string;
  readonly files: readonly { readonly name: string; readonly path: string; readonly bytes: Buffer }[];
}

/** Files of the given sizes in `dir` (random bytes), and an ssh request for them naming `key`. */
export async function makeSshRequest(dir: string, key: string, sizes: readonly [string, number][], options: { note?: string; created?: Date } = {}): Promise<MadeRequest> {
  await mkdir(dir, { recursive: true });
  const files = [];
  for (const [name, size] of sizes) {
    const path = join(dir, name);
    const bytes = randomBytes(size);
    await writeFile(path, bytes);
    files.push({ name, path, bytes });
  }
  const { request, bytes } = await createRequest({
    key,
    format: 'ssh',
    options: { Namespace: NAMESPACE },
    ...(options.note !== undefined ? { note: options.note } : {}),
    files: files.map((f) => ({ name: f.name, size: f.bytes.length, chunks: createReadStream(f.path) })),
    ...(options.created ? { now: options.created } : {}),
  });
  return { id: request.RequestId, bytes, text: new TextDecoder().decode(bytes), files };
}

/**
 * The online machine's last step: finishRequest checks the response against the request and the
 * files, then every signature it writes is verified by `ssh-keygen -Y verify` with the public key
 * the response carried. Returns the signer's SSH fingerprint line from ssh-keygen.
 */
export async function finishAndVerify(request: MadeRequest, response: Uint8Array, work: string): Promise<{ KeyId: string; KeyVersionId: string; verified: string[] }> {
  const dir = join(request.files[0]!.path, '..');
  const finished = await finishRequest({ request: request.bytes, response, openFile: (name) => Promise.resolve(createReadStream(join(dir, name))) });
  const pub = finished.publicMaterial.find((m) => m.FileName.endsWith('.pub'));
  if (!pub) throw new Error(`the response carries no SSH public key: ${finished.publicMaterial.map((m) => m.FileName).join(', ')}`);
  const allowed = join(work, 'allowed_signers');
  await writeFile(allowed, `${NAMESPACE} ${new TextDecoder().decode(pub.Bytes).trim()}\n`);
  const verified: string[] = [];
  for (const [i, output] of finished.outputs.entries()) {
    const sig = join(work, output.FileName);
    await writeFile(sig, output.Bytes);
    const run = spawnSync('ssh-keygen', ['-Y', 'verify', '-f', allowed, '-I', NAMESPACE, '-n', NAMESPACE, '-s', sig], { input: request.files[i]!.bytes, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`ssh-keygen -Y verify refused ${output.FileName}: ${run.stdout}${run.stderr}`);
    verified.push(run.stdout.trim());
  }
  return { KeyId: finished.KeyId, KeyVersionId: finished.KeyVersionId, verified };
}

/** The text of the QR code in a PNG, as zbarimg reads it (QR codes only: zbar's other decoders can misread a QR code's modules as an Interleaved 2 of 5 or Codabar code, about 1 frame in 600). */
export async function zbarRead(png: Buffer, path: string): Promise<string> {
  await writeFile(path, png);
  const run = spawnSync('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', path], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`zbarimg read no QR code in ${path}: ${run.stderr}`);
  return run.stdout.trim();
}

/**
 * A Y4M video (4:2:0, what Chromium's --use-file-for-fake-video-capture reads) showing each text
 * as a QR code, one per video frame at `fps`, black modules on white with a quiet zone. Chromium
 * plays it in a loop, as a phone showing an animated QR code would.
 */
export async function qrVideo(path: string, texts: readonly string[], options: { width?: number; height?: number; fps?: number } = {}): Promise<void> {
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const fps = options.fps ?? 5;
  const chunks: Buffer[] = [Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`, 'latin1')];
  const chroma = Buffer.alloc((width / 2) * (height / 2), 128);
  for (const text of texts) {
    const qr = QRCode.create(text, { errorCorrectionLevel: 'L' });
    const size = qr.modules.size;
    const quiet = 4;
    const scale = Math.floor(Math.min(width, height) / (size + 2 * quiet));
    if (scale < 2) throw new Error(`a ${size}-module QR code does not fit ${width}x${height} at 2 pixels a module`);
    const left = Math.floor((width - size * scale) / 2);
    const top = Math.floor((height - size * scale) / 2);
    const luma = Buffer.alloc(width * height, 235);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        if (!qr.modules.get(y, x)) continue;
        for (let dy = 0; dy < scale; dy++) luma.fill(16, (top + y * scale + dy) * width + left + x * scale, (top + y * scale + dy) * width + left + (x + 1) * scale);
      }
    }
    chunks.push(Buffer.from('FRAME\n', 'latin1'), luma, chroma, chroma);
  }
  await writeFile(path, Buffer.concat(chunks));
}
