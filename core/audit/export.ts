// The audit log as a CSV or JSON Lines file (the CLI's audit export, the app's Export button). The
// formatting lives in core/contract/audit-export.ts, runtime-neutral, so that the renderer writes
// the same bytes; this is its name for the core. formatAuditExport(entries, 'csv' | 'jsonl') takes
// ListAuditEntries' entries (AuditEntryView).
export { AUDIT_EXPORT_COLUMNS, AUDIT_EXPORT_FILES, AUDIT_EXPORT_FORMATS, csvCell, formatAuditExport, type AuditExportFormat } from '../contract/audit-export.ts';
