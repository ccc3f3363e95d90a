// Every version of a key, through ListKeyVersions page by page: the one copy the key detail and
// the key version picker share.
import type { KeyVersionInfo } from '../../../core/contract/responses.ts';
import { kms } from './bridge.ts';

const PAGE_SIZE = 100;

/** Every version of a key, in the order ListKeyVersions lists them (oldest first). */
export async function listAllVersions(keyId: string): Promise<KeyVersionInfo[]> {
  const all: KeyVersionInfo[] = [];
  for (let page = 1; ; page++) {
    const r = await kms('ListKeyVersions', { KeyId: keyId, PageNumber: page, PageSize: PAGE_SIZE });
    all.push(...r.KeyVersions.KeyVersion);
    if (r.KeyVersions.KeyVersion.length < PAGE_SIZE || all.length >= r.TotalCount) return all;
  }
}
