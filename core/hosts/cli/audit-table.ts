// `deskkms audit list --format table`: the entries ListAuditEntries answered, as a human table.
import { displayText } from '../../contract/escape-text.ts';
import type { AuditEntryInfo } from '../../contract/responses.ts';

const TABLE_COLUMNS: readonly (readonly [header: string, value: (e: AuditEntryInfo) => string])[] = [
  ['SEQ', (e) => String(e.seq)],
  ['TIME', (e) => e.time],
  ['ACTION', (e) => e.action],
  ['CODE', (e) => e.code],
  ['CALLER', (e) => e.caller],
  ['KEY ID', (e) => e.keyId ?? '-'],
  ['KEY VERSION ID', (e) => e.keyVersionId ?? '-'],
  ['REQUEST ID', (e) => e.requestId],
];

/**
 * A header line, then one line per entry. Rows read from disk may have been tampered with:
 * displayText keeps them from moving the cursor or reordering the line (controls, bidi and other
 * invisible characters shown escaped).
 */
export function formatAuditTable(entries: readonly AuditEntryInfo[]): string {
  const cells = [TABLE_COLUMNS.map(([header]) => header), ...entries.map((e) => TABLE_COLUMNS.map(([, value]) => displayText(value(e))))];
  const widths = TABLE_COLUMNS.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells
    .map((row) => row.map((cell, i) => (i === 0 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n')
    .concat('\n');
}
