// The backup file (core/custody/backup.ts makes and opens it). One file, written atomically:
//
//   "DESKKMS-BACKUP 1\n"                      magic
//   u32be n, n bytes of header JSON           what opens it and what it holds (below); <= 64 KiB
//   32 bytes HMAC-SHA256(K_payload, ...)      over the magic and the header (K_payload: core/worker/custody.ts)
//   chunks: u32be m, m bytes                  the vault snapshot (a SQLite file made by VACUUM INTO),
//                                             AES-256-GCM under K_payload in chunks of up to 1 MiB;
//                                             nonce = u32be(1 on the last chunk, else 0) || u64be(index),
//                                             associated data = SHA-256 of the header: a chunk cannot be
//                                             moved, dropped, reordered or grafted from another backup
//   32 bytes SHA-256 of everything before     a checksum with no key: tells a damaged file (a flipped
//                                             byte, a cut copy) from a wrong passphrase or share set
//
// Nothing in it is in the clear that opens anything: the data key is wrapped under the recovery key
// (header.WrappedDataKey), private keys are sealed under the data key inside the snapshot, and the
// snapshot itself is encrypted. The header shows counts, ids and dates only.
import { createCipheriv, createDecipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { z } from 'zod';
import { KmsError } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import { recoveryKdf } from '../worker/protocol.ts';

export const MAGIC = Buffer.from('DESKKMS-BACKUP 1\n', 'utf8');
const MAX_HEADER = 64 * 1024;
export const CHUNK_BYTES = 1024 * 1024;
const TAG_BYTES = 16;
const MAC_BYTES = 32;
const SUM_BYTES = 32;

export const backupHeader = z.strictObject({
  Format: z.literal('deskkms-backup'),
  Version: z.literal(1),
  BackupId: z.string().uuid(),
  VaultId: z.string().min(1).max(128),
  Created: z.string().max(40),
  Recovery: z.discriminatedUnion('Kind', [
    z.strictObject({ Kind: z.literal('passphrase'), Kdf: recoveryKdf }),
    z.strictObject({
      Kind: z.literal('shares'),
      Kdf: recoveryKdf,
      Scheme: z.literal('SLIP-0039'),
      Threshold: z.number().int().min(2).max(16),
      ShareCount: z.number().int().min(2).max(16),
      Identifier: z.number().int().min(0).max(32767),
    }),
  ]),
  /** base64: nonce || AES-256-GCM(K_wrap, data key) || tag. */
  WrappedDataKey: z.string().max(200),
  /** The vault's verifier: proves the unwrapped key is the vault's. */
  Verifier: z.string().max(512),
  Snapshot: z.strictObject({ Size: z.number().int().min(0), Sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  Contents: z.strictObject({
    KeyCount: z.number().int().min(0),
    KeyVersionCount: z.number().int().min(0),
    AccessKeyCount: z.number().int().min(0),
    AuditHead: z.strictObject({ Seq: z.number().int().min(0), Hash: z.string().regex(/^[0-9a-f]{64}$/) }),
  }),
});
export type BackupHeader = z.infer<typeof backupHeader>;

export function damaged(path: string, why: string): KmsError {
  return new KmsError('Backup.Damaged', `${escapeText(basename(path), 200)} is not a usable DeskKMS backup: ${why}`);
}

function headerMac(payloadKey: Uint8Array, headerBytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(headerBytes.length);
  return createHmac('sha256', payloadKey).update('deskkms-backup-v1 header\0').update(MAGIC).update(length).update(headerBytes).digest();
}

function chunkNonce(index: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(last ? 1 : 0, 0);
  nonce.writeBigUInt64BE(BigInt(index), 4);
  return nonce;
}

/** Writes the backup to `path` (a new file, created 0600) from the snapshot file; fsyncs it. */
export function writeBackupFile(path: string, header: BackupHeader, payloadKey: Uint8Array, snapshotPath: string): void {
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const headerHash = createHash('sha256').update(headerBytes).digest();
  const sum = createHash('sha256');
  const out = openSync(path, 'wx', 0o600);
  const input = openSync(snapshotPath, 'r');
  try {
    const put = (bytes: Buffer): void => {
      sum.update(bytes);
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(out, bytes, offset);
    };
    const length = Buffer.alloc(4);
    length.writeUInt32BE(headerBytes.length);
    put(MAGIC);
    put(length);
    put(headerBytes);
    put(headerMac(payloadKey, headerBytes));
    const buffer = Buffer.alloc(CHUNK_BYTES);
    let index = 0;
    let remaining = header.Snapshot.Size;
    do {
      const want = Math.min(CHUNK_BYTES, remaining);
      let got = 0;
      while (got < want) {
        const n = readSync(input, buffer, got, want - got, null);
        if (n === 0) throw new KmsError('InternalFailure', 'the vault snapshot ended before its size');
        got += n;
      }
      remaining -= want;
      const cipher = createCipheriv('aes-256-gcm', payloadKey, chunkNonce(index, remaining === 0), { authTagLength: TAG_BYTES });
      cipher.setAAD(headerHash);
      const sealed = Buffer.concat([cipher.update(buffer.subarray(0, want)), cipher.final(), cipher.getAuthTag()]);
      const chunkLength = Buffer.alloc(4);
      chunkLength.writeUInt32BE(sealed.length);
      put(chunkLength);
      put(sealed);
      index++;
    } while (remaining > 0);
    const digest = sum.digest();
    let offset = 0;
    while (offset < digest.length) offset += writeSync(out, digest, offset);
    fsyncSync(out);
  } finally {
    closeSync(input);
    closeSync(out);
  }
}

/** A backup file opened for reading: its header as stored, checked against the file's checksum. */
export interface OpenedBackup {
  readonly path: string;
  readonly header: BackupHeader;
  readonly headerBytes: Buffer;
  readonly mac: Buffer;
  /** Offset of the first chunk. */
  readonly chunksAt: number;
  readonly size: number;
}

class Reader {
  private position = 0;
  private readonly fd: number;
  private readonly path: string;
  readonly end: number;
  constructor(fd: number, path: string, end: number) {
    this.fd = fd;
    this.path = path;
    this.end = end;
  }
  get offset(): number {
    return this.position;
  }
  read(n: number, what: string): Buffer {
    if (this.position + n > this.end) throw damaged(this.path, `it is cut short (${what} runs past the end of the file)`);
    const buffer = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const r = readSync(this.fd, buffer, got, n - got, this.position + got);
      if (r === 0) throw damaged(this.path, `it is cut short (${what})`);
      got += r;
    }
    this.position += n;
    return buffer;
  }
}

/**
 * Opens a backup without its secret: the magic, the header (parsed strictly) and the checksum over
 * the whole file (streamed), so a damaged file is named as such before any secret is blamed.
 */
export function openBackupFile(path: string): OpenedBackup {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new KmsError('InvalidParameter', `${escapeText(path, 300)}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : 'cannot be read'}`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size < MAGIC.length + 4 + MAC_BYTES + SUM_BYTES) throw damaged(path, `it is ${size} bytes, too short to be one`);
    const reader = new Reader(fd, path, size - SUM_BYTES);
    if (!reader.read(MAGIC.length, 'the magic').equals(MAGIC)) throw damaged(path, 'it does not start with "DESKKMS-BACKUP 1"');
    // The checksum first: a flipped byte anywhere is damage, whatever else it also breaks.
    const sum = createHash('sha256');
    const buffer = Buffer.alloc(CHUNK_BYTES);
    for (let at = 0; at < size - SUM_BYTES; ) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, size - SUM_BYTES - at), at);
      if (n === 0) throw damaged(path, 'it is cut short');
      sum.update(buffer.subarray(0, n));
      at += n;
    }
    const stored = Buffer.alloc(SUM_BYTES);
    readSync(fd, stored, 0, SUM_BYTES, size - SUM_BYTES);
    if (!timingSafeEqual(sum.digest(), stored)) throw damaged(path, 'its checksum does not match (a changed byte, or a copy cut short)');
    const headerLength = reader.read(4, 'the header length').readUInt32BE(0);
    if (headerLength > MAX_HEADER) throw damaged(path, `its header claims ${headerLength} bytes (at most ${MAX_HEADER})`);
    const headerBytes = reader.read(headerLength, 'the header');
    let parsed: unknown;
    try {
      parsed = JSON.parse(headerBytes.toString('utf8'));
    } catch {
      throw damaged(path, 'its header is not JSON');
    }
    const header = backupHeader.safeParse(parsed);
    if (!header.success) {
      const issue = header.error.issues[0];
      throw damaged(path, `its header is not one this DeskKMS reads (${escapeText(issue?.path.join('.') ?? '', 80)}: ${escapeText(issue?.message ?? 'invalid', 120)})`);
    }
    const mac = reader.read(MAC_BYTES, 'the header MAC');
    return { path, header: header.data, headerBytes, mac, chunksAt: reader.offset, size };
  } finally {
    closeSync(fd);
  }
}

/** The header's MAC under the payload key: a header changed and re-checksummed is refused here. */
export function checkHeaderMac(backup: OpenedBackup, payloadKey: Uint8Array): void {
  if (!timingSafeEqual(headerMac(payloadKey, backup.headerBytes), backup.mac)) {
    throw damaged(backup.path, 'its header was altered (it fails its MAC under the recovery key); the file was changed on purpose, not damaged');
  }
}

/**
 * Decrypts the snapshot into `outPath` (created 0600, fsynced) chunk by chunk, each authenticated;
 * checks the snapshot's size and SHA-256 against the header. `onChunk(bytesDone)` reports progress.
 */
export function decryptSnapshot(backup: OpenedBackup, payloadKey: Uint8Array, outPath: string, onChunk?: (done: number) => void): void {
  const { path, header } = backup;
  const headerHash = createHash('sha256').update(backup.headerBytes).digest();
  const fd = openSync(path, 'r');
  const out = openSync(outPath, 'wx', 0o600);
  const plainSum = createHash('sha256');
  try {
    const reader = new Reader(fd, path, backup.size - SUM_BYTES);
    reader.read(backup.chunksAt, 'the header');
    let index = 0;
    let done = 0;
    for (;;) {
      const at = reader.offset;
      const length = reader.read(4, `chunk ${index}'s length`).readUInt32BE(0);
      if (length < TAG_BYTES || length > CHUNK_BYTES + TAG_BYTES) throw damaged(path, `chunk ${index} (at byte ${at}) claims ${length} bytes`);
      const sealed = reader.read(length, `chunk ${index}`);
      const last = reader.offset === reader.end;
      let plain: Buffer;
      try {
        const decipher = createDecipheriv('aes-256-gcm', payloadKey, chunkNonce(index, last), { authTagLength: TAG_BYTES });
        decipher.setAAD(headerHash);
        decipher.setAuthTag(sealed.subarray(length - TAG_BYTES));
        plain = Buffer.concat([decipher.update(sealed.subarray(0, length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw damaged(path, last ? `its last chunk ${index} (at byte ${at}) fails authentication, or chunks were removed after it` : `chunk ${index} (at byte ${at}) fails authentication`);
      }
      plainSum.update(plain);
      let offset = 0;
      while (offset < plain.length) offset += writeSync(out, plain, offset);
      done += plain.length;
      onChunk?.(done);
      index++;
      if (last) break;
    }
    if (done !== header.Snapshot.Size || plainSum.digest('hex') !== header.Snapshot.Sha256) {
      throw damaged(path, 'its snapshot does not match the size and SHA-256 its header gives');
    }
    fsyncSync(out);
  } finally {
    closeSync(out);
    closeSync(fd);
  }
}
