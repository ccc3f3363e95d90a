// The audit export: a CSV a spreadsheet opens as text (header row, RFC 4180 quoting, no formula
// from a cell starting = + - @ TAB CR, no control or bidi character shown raw) and JSON Lines that
// parse back to the entries, with unsafe code points escaped.
import { describe, expect, it } from 'vitest';
import { csvCell, formatAuditExport } from './audit-export.ts';
import type { AuditEntryInfo } from './responses.ts';

const entry = (over: Partial<AuditEntryInfo> = {}): AuditEntryInfo => ({
  seq: 7,
  time: '2026-01-31T12:00:00.000Z',
  action: 'AsymmetricSign',
  keyId: '1b4d6c1e-0c1a-4c9a-8a11-2c2e0a9c0f10',
  keyVersionId: null,
  code: 'OK',
  caller: 'app',
  requestId: 'r-1',
  prevHash: 'aa',
  hash: 'bb',
  ...over,
});

describe('formatAuditExport csv', () => {
  it('writes a header row and one CRLF-ended row per entry, an absent field empty', () => {
    expect(formatAuditExport([entry()], 'csv')).toBe(
      'seq,time,action,keyId,keyVersionId,code,caller,requestId,prevHash,hash\r\n' +
        '7,"2026-01-31T12:00:00.000Z","AsymmetricSign","1b4d6c1e-0c1a-4c9a-8a11-2c2e0a9c0f10",,"OK","app","r-1","aa","bb"\r\n',
    );
    expect(formatAuditExport([], 'csv')).toBe('seq,time,action,keyId,keyVersionId,code,caller,requestId,prevHash,hash\r\n');
  });

  it('quotes a cell holding a comma or a quote, doubling the quotes (RFC 4180)', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    const row = formatAuditExport([entry({ action: 'x,"y"' })], 'csv').split('\r\n')[1];
    expect(row).toContain(',"x,""y""",');
  });

  it.each(['=HYPERLINK("http://evil")', '+1+2', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd'])('guards %j against formula injection', (text) => {
    const cell = csvCell(text);
    expect(cell.replace(/^"/, '')).toMatch(/^'/);
    expect(cell).not.toMatch(/^[=+\-@\t\r]/);
  });

  it('quotes every text cell, so a locale that splits on ; or TAB still reads one cell (the formula inside stays text)', () => {
    // An Action name an API caller sent, recorded as sent: Excel in a ;-separated locale would split
    // an unquoted cell here and run the middle part.
    const row = formatAuditExport([entry({ action: "x;=cmd|' /C calc'!A0;y" })], 'csv').split('\r\n')[1]!;
    expect(row).toContain(`,"x;=cmd|' /C calc'!A0;y",`);
  });

  it.each([' =1+2', '  @SUM(A1)', ' -2'])('guards %j, a formula after blanks a spreadsheet skips', (text) => {
    expect(csvCell(text)).toBe(`"'${text}"`);
  });

  it('shows control and bidi characters escaped, never raw', () => {
    expect(csvCell('a\u202Eb\nc\u0007')).toBe('"a\\u202Eb\\x0Ac\\x07"');
    expect(csvCell('ok')).toBe('"ok"');
    expect(csvCell(12)).toBe('12');
  });
});

describe('formatAuditExport jsonl', () => {
  it('writes one JSON object per line that parses back to the entry', () => {
    const entries = [entry(), entry({ seq: 8, action: 'DisableKey', code: 'Forbidden.KeyNotFound', keyId: 'alias/x' })];
    const text = formatAuditExport(entries, 'jsonl');
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(lines.slice(0, 2).map((l) => JSON.parse(l) as unknown)).toEqual(entries);
  });

  it('escapes unsafe code points (bidi, U+2028, DEL) so no line is reordered or split, and the value parses back', () => {
    const hostile = entry({ action: 'a\u202Eb\u2028c\u007f' });
    const line = formatAuditExport([hostile], 'jsonl');
    expect(line).not.toMatch(/[\u202E\u2028\u007f]/);
    expect(line).toContain('a\\u202eb\\u2028c\\u007f');
    expect(JSON.parse(line)).toEqual(hostile);
  });

  it('keeps only the entry fields, in order, and refuses another format', () => {
    const line = formatAuditExport([{ ...entry(), extra: 'x' } as AuditEntryInfo], 'jsonl');
    expect(Object.keys(JSON.parse(line) as object)).toEqual(['seq', 'time', 'action', 'keyId', 'keyVersionId', 'code', 'caller', 'requestId', 'prevHash', 'hash']);
    expect(() => formatAuditExport([], 'xml' as 'csv')).toThrow(/format must be csv or jsonl/);
  });
});
