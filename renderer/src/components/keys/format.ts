// Display helpers shared by the key list and the key detail: dates in UTC (the vault's clock, the
// same string on every station), a key's display name, and file names for saved public keys.
import type { KeySummary } from '../../../../core/contract/app-api.ts';

/** "2025-06-01T12:00:00Z" -> "2025-06-01 12:00:00 UTC"; anything unparsable as given. */
export function formatUtc(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return match ? `${match[1]} ${match[2]} UTC` : iso;
}

/** The calendar day (UTC) of an ISO date, for the compact list column. */
export function formatDay(iso: string): string {
  return /^\d{4}-\d{2}-\d{2}/.exec(iso)?.[0] ?? iso;
}

/** Whole days from `now` until `iso` (rounded up: "in 30 days" on the day it is scheduled). */
export function daysUntil(iso: string, now = Date.now()): number {
  return Math.ceil((Date.parse(iso) - now) / 86_400_000);
}

/** Aliases when a key has some (what people recognise), otherwise its KeyId. */
export function keyDisplayName(key: Pick<KeySummary, 'KeyId' | 'Aliases'>): string {
  return key.Aliases.length > 0 ? key.Aliases.join(', ') : key.KeyId;
}

/** A file-name stem for a key version's public key: first alias (without "alias/") or KeyId. */
export function publicKeyFileStem(key: Pick<KeySummary, 'KeyId' | 'Aliases'>, keyVersionId: string): string {
  const alias = key.Aliases[0];
  const base = alias ? alias.slice('alias/'.length).replace(/[^a-zA-Z0-9_-]+/g, '_') : key.KeyId;
  return `${base}-${keyVersionId.slice(0, 8)}`;
}
