// List Actions' pages: PageNumber/PageSize to an offset, and a page of what a key-limited caller
// may see (it sees only its keys, and counts only those).
import { aliasArn } from './key-metadata.ts';

interface PageRequest {
  readonly PageNumber: number;
  readonly PageSize: number;
}

export function pageOffset(req: PageRequest): number {
  return (req.PageNumber - 1) * req.PageSize;
}

/** The requested page of `all` (already filtered to what the caller may see). */
export function pageOf<T>(all: readonly T[], req: PageRequest): T[] {
  const offset = pageOffset(req);
  return all.slice(offset, offset + req.PageSize);
}

export function aliasPage(rows: readonly { alias_name: string; key_id: string }[], total: number, req: PageRequest) {
  return {
    Aliases: { Alias: rows.map((a) => ({ KeyId: a.key_id, AliasName: a.alias_name, AliasArn: aliasArn(a.alias_name) })) },
    TotalCount: total,
    PageNumber: req.PageNumber,
    PageSize: req.PageSize,
  };
}
