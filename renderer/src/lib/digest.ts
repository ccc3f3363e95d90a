// Messages streamed to the host: a file is read in chunks (never whole into memory) and sent to a
// host session, reporting progress; text is one chunk. Two kinds of session: the Digest that
// AsymmetricSign / AsymmetricVerify take (Digest.*; the host hashes with SHA-256, or SM3 over
// Z_A || M for SM2DSA), and a signature file in a release format (Sign.*; the host hashes as the
// format's ecosystem does and signs once, audited with the format).
import { DIGEST_CHUNK_MAX, STREAM_PART_BYTES, type AppParams, type AppResults } from '../../../core/contract/app-api.ts';
import type { SigningAlgorithm } from '../../../core/contract/specs.ts';
import { call, pickFile as pickFileWithHost, sendChunk, takesBytes } from '../api/bridge.ts';

/** Chunks as base64 in JSON (Electron's IPC): each is read into memory and encoded. */
export const FILE_CHUNK_BYTES = Math.min(2 * 1024 * 1024, DIGEST_CHUNK_MAX);

export interface DigestTarget {
  readonly KeyId: string;
  readonly KeyVersionId: string;
  readonly Algorithm: SigningAlgorithm;
}

export interface DigestProgress {
  readonly done: number;
  readonly total: number;
}

/**
 * A file the user chose in the host's own dialog (Electron: pickFile); the host reads it itself,
 * so the renderer sends only which part to hash next.
 */
export interface PickedFile {
  readonly picked: true;
  readonly handle: string;
  readonly name: string;
  readonly size: number;
}

/** A message to stream: bytes, a Blob (a File the page holds) or a file the host reads. */
export type StreamedMessage = Blob | Uint8Array | PickedFile;

export function isPickedFile(message: unknown): message is PickedFile {
  return typeof message === 'object' && message !== null && (message as { picked?: unknown }).picked === true;
}

/** The host's file dialog, where it has one (Electron); undefined in the browser host. */
export async function pickFile(): Promise<PickedFile | undefined> {
  const picked = await pickFileWithHost();
  return picked ? { picked: true, handle: picked.Handle, name: picked.Name, size: picked.Size } : undefined;
}

/** A host session that takes a message in chunks: Digest.* or Sign.*. */
interface StreamMethods<T> {
  update(SessionId: string, part: Blob, signal?: AbortSignal): Promise<{ BytesHashed: number }>;
  /** The next part of a file the host reads itself (*.UpdateFile). */
  updateFile(SessionId: string, file: PickedFile, offset: number, length: number): Promise<{ BytesHashed: number }>;
  finish(SessionId: string): Promise<T>;
  abort(SessionId: string): Promise<unknown>;
}

/** Streams `message` into the session `SessionId`; on any failure or abort the host session is aborted. */
async function stream<T>(
  SessionId: string,
  methods: StreamMethods<T>,
  message: StreamedMessage,
  onProgress?: (p: DigestProgress) => void,
  signal?: AbortSignal,
): Promise<T> {
  try {
    if (isPickedFile(message)) {
      // The host reads the file: each call names the next part, the host hashes it from disk.
      onProgress?.({ done: 0, total: message.size });
      for (let offset = 0; offset < message.size; offset += STREAM_PART_BYTES) {
        signal?.throwIfAborted();
        const { BytesHashed } = await methods.updateFile(SessionId, message, offset, Math.min(STREAM_PART_BYTES, message.size - offset));
        onProgress?.({ done: BytesHashed, total: message.size });
      }
      signal?.throwIfAborted();
      return await methods.finish(SessionId);
    }
    const blob = message instanceof Blob ? message : new Blob([message as Uint8Array<ArrayBuffer>]);
    onProgress?.({ done: 0, total: blob.size });
    // Parts as bytes (the browser host): slices the browser uploads from disk itself, hashed by the
    // host as they arrive. Otherwise base64 chunks in JSON (Electron's IPC).
    const step = takesBytes() ? STREAM_PART_BYTES : FILE_CHUNK_BYTES;
    for (let offset = 0; offset < blob.size; offset += step) {
      signal?.throwIfAborted();
      const { BytesHashed } = await methods.update(SessionId, blob.slice(offset, offset + step), signal);
      onProgress?.({ done: BytesHashed, total: blob.size });
    }
    signal?.throwIfAborted();
    return await methods.finish(SessionId);
  } catch (error) {
    await methods.abort(SessionId).catch(() => undefined);
    throw error;
  }
}

const DIGEST: StreamMethods<AppResults['Digest.Finish']> = {
  update: (SessionId, part, signal) => sendChunk('Digest.Update', SessionId, part, signal),
  updateFile: (SessionId, file, Offset, Length) => call('Digest.UpdateFile', { SessionId, Handle: file.handle, Offset, Length }),
  finish: (SessionId) => call('Digest.Finish', { SessionId }),
  abort: (SessionId) => call('Digest.Abort', { SessionId }),
};

const SIGN: StreamMethods<AppResults['Sign.Finish']> = {
  update: (SessionId, part, signal) => sendChunk('Sign.Update', SessionId, part, signal),
  updateFile: (SessionId, file, Offset, Length) => call('Sign.UpdateFile', { SessionId, Handle: file.handle, Offset, Length }),
  finish: (SessionId) => call('Sign.Finish', { SessionId }),
  abort: (SessionId) => call('Sign.Abort', { SessionId }),
};

/** Base64 Digest of `message` for the target key version and algorithm. */
export async function digestOf(
  target: DigestTarget,
  message: StreamedMessage,
  onProgress?: (p: DigestProgress) => void,
  signal?: AbortSignal,
): Promise<string> {
  const { SessionId } = await call('Digest.Begin', target);
  return (await stream(SessionId, DIGEST, message, onProgress, signal)).Digest;
}

/**
 * The signature file of `message` in a release format (raw, ssh, openpgp, sigstore, jws), with
 * the name its ecosystem gives it (request.FileName + .sig, .asc, .sigstore.json or .jws).
 */
export async function signatureFileOf(
  request: AppParams<'Sign.Begin'>,
  message: StreamedMessage,
  onProgress?: (p: DigestProgress) => void,
  signal?: AbortSignal,
): Promise<AppResults['Sign.Finish']> {
  const { SessionId } = await call('Sign.Begin', request);
  return stream(SessionId, SIGN, message, onProgress, signal);
}
