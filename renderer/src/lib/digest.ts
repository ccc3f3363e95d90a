// The Digest that AsymmetricSign / AsymmetricVerify take, for a message the user gives: a file is
// read in chunks (never whole into memory) and streamed to the host's digest session, reporting
// progress; text is one chunk. The host hashes (SHA-256, or SM3 over Z_A || M for SM2DSA).
import { DIGEST_CHUNK_MAX } from '../../../core/contract/app-api.ts';
import { encodeBase64 } from '../../../core/contract/base64.ts';
import type { SigningAlgorithm } from '../../../core/contract/specs.ts';
import { call } from '../api/bridge.ts';

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

/** Base64 Digest of `message` for the target key version and algorithm. */
export async function digestOf(
  target: DigestTarget,
  message: Blob | Uint8Array,
  onProgress?: (p: DigestProgress) => void,
  signal?: AbortSignal,
): Promise<string> {
  const blob = message instanceof Blob ? message : new Blob([message as Uint8Array<ArrayBuffer>]);
  const { SessionId } = await call('Digest.Begin', target);
  try {
    onProgress?.({ done: 0, total: blob.size });
    for (let offset = 0; offset < blob.size; offset += FILE_CHUNK_BYTES) {
      signal?.throwIfAborted();
      const chunk = new Uint8Array(await blob.slice(offset, offset + FILE_CHUNK_BYTES).arrayBuffer());
      const { BytesHashed } = await call('Digest.Update', { SessionId, Chunk: encodeBase64(chunk) });
      onProgress?.({ done: BytesHashed, total: blob.size });
    }
    signal?.throwIfAborted();
    return (await call('Digest.Finish', { SessionId })).Digest;
  } catch (error) {
    await call('Digest.Abort', { SessionId }).catch(() => undefined);
    throw error;
  }
}
