// The audit log as a file: CSV (RFC 4180) or JSON Lines, for the app's Export and the CLI. Every
// field of an entry may hold text a caller sent (escaped when it was written, but a row edited in
// the file holds anything), so nothing in the file may act on what opens it:
//   CSV: a header row, then one row per entry; every text cell is quoted (quotes doubled), so a
//        spreadsheet whose locale splits on ; or TAB still sees one cell, and a cell whose first
//        visible character is = + - @ (or that starts with TAB or CR) gets a leading ' so a
//        spreadsheet takes it as text, not a formula (OWASP "CSV injection"). Unsafe code
//        points (controls, bidi and other format characters) are shown escaped (displayText).
//   JSON Lines: one JSON object per line, the entry's fields as ListAuditEntries answers them,
//        unsafe code points written as \u escapes (escapeJsonText): the same values once parsed.
// Runtime-neutral: the renderer (a download) and the CLI write the same bytes.
import type { AuditEntryInfo } from './responses.ts';
import { displayText, escapeJsonText } from './escape-text.ts';

export const AUDIT_EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

/** The columns of the CSV, in order: the entry's fields as ListAuditEntries names them. */
export const AUDIT_EXPORT_COLUMNS = ['seq', 'time', 'action', 'keyId', 'keyVersionId', 'code', 'caller', 'requestId', 'prevHash', 'hash'] as const satisfies readonly (keyof AuditEntryInfo)[];

/** The file name's extension and media type for each format. */
export const AUDIT_EXPORT_FILES: Readonly<Record<AuditExportFormat, { readonly extension: string; readonly mediaType: string }>> = {
  csv: { extension: '.csv', mediaType: 'text/csv;charset=utf-8' },
  jsonl: { extension: '.jsonl', mediaType: 'application/jsonl;charset=utf-8' },
};

/** A cell a spreadsheet would read as a formula (after any blanks it skips), or whose leading control it would drop. */
const FORMULA_START = /^(?:[\t\r]|\s*[=+\-@])/;

/** One CSV cell: unsafe code points shown escaped, guarded against formulas, always quoted (RFC 4180). */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  // displayText leaves no TAB or CR (they show as \x09, \x0D); the guard names them all the same.
  const shown = displayText(value);
  const text = FORMULA_START.test(value) || FORMULA_START.test(shown) ? `'${shown}` : shown;
  return `"${text.replace(/"/g, '""')}"`;
}

/** The entries as a CSV (header row first, CRLF line ends as RFC 4180 writes them) or as JSON Lines (LF). */
export function formatAuditExport(entries: readonly AuditEntryInfo[], format: AuditExportFormat): string {
  if (format === 'csv') {
    const rows = [AUDIT_EXPORT_COLUMNS.join(','), ...entries.map((entry) => AUDIT_EXPORT_COLUMNS.map((column) => csvCell(entry[column])).join(','))];
    return `${rows.join('\r\n')}\r\n`;
  }
  if (format === 'jsonl') {
    return entries.map((entry) => `${escapeJsonText(JSON.stringify(pick(entry)))}\n`).join('');
  }
  throw new RangeError(`formatAuditExport: format must be ${AUDIT_EXPORT_FORMATS.join(' or ')}`);
}

/** The entry's own fields in the export's order (nothing else an object may carry). */
function pick(entry: AuditEntryInfo): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {};
  for (const column of AUDIT_EXPORT_COLUMNS) out[column] = entry[column];
  return out;
}
