import { describe, expect, it } from 'vitest';
import { KmsError } from '../contract/errors.ts';
import { formatShareFile, MAX_SHARE_FILE_BYTES, readShareFile, type ShareInfo } from './share-file.ts';

// SLIP-0039's published test vector 20 ("Valid mnemonic without sharing (256 bits)"): 33 real words.
const MNEMONIC =
  'theory painting academic academic armed sweater year military elder discuss acne wildlife boring employer fused large ' +
  'satoshi bundle carbon diagnose anatomy hamster leaves tracks paces beyond phantom capital marvel lips brave detect luck';

const SHARE: ShareInfo = {
  index: 2,
  count: 5,
  threshold: 3,
  identifier: 21219,
  backupId: 'bk-7f3a9c1e',
  vaultId: 'v-0a1b2c3d',
  created: '2026-12-01T21:00:00.000Z',
  mnemonic: MNEMONIC,
};

/** The refusal readShareFile gives for `text`, which must be Backup.ShareInvalid. */
function refusal(text: string, where = 'share-2-of-5.txt'): KmsError {
  try {
    readShareFile(text, where);
  } catch (error) {
    expect(error).toBeInstanceOf(KmsError);
    expect((error as KmsError).code).toBe('Backup.ShareInvalid');
    return error as KmsError;
  }
  throw new Error(`readShareFile accepted ${JSON.stringify(text.slice(0, 80))}`);
}

describe('share file', () => {
  it('formats comment lines then the words, and reads back exactly the mnemonic', () => {
    const text = formatShareFile(SHARE);
    const lines = text.split('\n');
    expect(lines[0]).toBe('# DeskKMS recovery share 2 of 5: any 3 of the 5 shares restore the backup.');
    expect(text).toContain('# Backup id: bk-7f3a9c1e\n');
    expect(text).toContain('# Vault id: v-0a1b2c3d\n');
    expect(text).toContain('# Created: 2026-12-01T21:00:00.000Z\n');
    expect(text).toMatch(/^# .*SLIP-0039.*33 words/m);
    expect(text).toMatch(/^# Keep apart from the other shares/m);
    const wordLines = lines.filter((l) => l !== '' && !l.startsWith('#'));
    expect(wordLines).toHaveLength(4);
    expect(wordLines.join(' ')).toBe(MNEMONIC);
    expect(text.endsWith('luck\n')).toBe(true);
    expect(readShareFile(text, 'share-2-of-5.txt')).toBe(MNEMONIC);
  });

  it('reads a pasted mnemonic: any case, spacing, tabs, CRLF or a byte-order mark', () => {
    const messy = `\ufeff  ${MNEMONIC.toUpperCase().replaceAll(' ', ' \t ').replace('year', 'year\r\n\r\n')}\r\n\n`;
    expect(readShareFile(messy, 'share 1')).toBe(MNEMONIC);
    // A file whose '#' lines were edited or that an editor re-wrapped still reads.
    const rewrapped = `# my note\n\n${MNEMONIC.split(' ').join('\n')}\n   # indented comment\n`;
    expect(readShareFile(rewrapped, 'share 1')).toBe(MNEMONIC);
  });

  it('keeps a hostile field from leaving its comment line', () => {
    const text = formatShareFile({ ...SHARE, backupId: 'x\nacademic acid\n# y', vaultId: 'v\u202eevil' });
    expect(text).toContain('# Backup id: x\\x0Aacademic acid\\x0A# y\n');
    expect(text).toContain('# Vault id: v\\u202Eevil\n');
    expect(readShareFile(text, 'f')).toBe(MNEMONIC);
  });

  it('refuses what is not a share with Backup.ShareInvalid, naming where it came from', () => {
    expect(refusal('', 'a.txt').message).toBe('share a.txt: holds no words');
    expect(refusal('# only comments\n\n  \n').message).toMatch(/holds no words/);
    // Numbered words, punctuation, digits and letters outside a-z are refused, naming the line.
    const numbered = refusal(`# c\n1. ${MNEMONIC}`);
    expect(numbered.message).toBe('share share-2-of-5.txt: line 2 holds "1"; a share holds only words of letters a-z (lines starting with # are comments)');
    expect(refusal(MNEMONIC.replace('acne', 'acne,')).message).toMatch(/line 1 holds ","/);
    expect(refusal(MNEMONIC.replace('year', 'yéar')).message).toMatch(/holds "é"/);
    expect(refusal(MNEMONIC.replace('year', 'ye\u0430r')).message).toMatch(/holds "\u0430"/); // Cyrillic a
    // A control character is named escaped, so the message cannot move the terminal's cursor.
    expect(refusal(`${MNEMONIC}\u001b[2J`).message).toMatch(/holds "\\x1B"/);
    expect(refusal(`${MNEMONIC} \u0000`).message).toMatch(/holds "\\x00"/);
    expect(refusal('{"Shares":["x"]}').message).toMatch(/holds "\{"/);
  });

  it('escapes the name it gives for where the share came from', () => {
    expect(refusal('', 'evil\u001b]0;title\u0007.txt').message).toBe('share evil\\x1B]0;title\\x07.txt: holds no words');
    expect(refusal('', 'a\u202etxt.exe').message).toBe('share a\\u202Etxt.exe: holds no words');
  });

  it('refuses a file over 64 KiB before reading it, even one of comments or words', () => {
    const words = `${MNEMONIC}\n`.repeat(Math.ceil(MAX_SHARE_FILE_BYTES / MNEMONIC.length));
    expect(refusal(words).message).toMatch(/over 64 KiB/);
    // Under the limit in UTF-16 units but over it in bytes.
    const comment = `# ${'é'.repeat(MAX_SHARE_FILE_BYTES / 2)}\n${MNEMONIC}`;
    expect(comment.length).toBeLessThan(MAX_SHARE_FILE_BYTES + 10);
    expect(refusal(comment).message).toMatch(/over 64 KiB/);
    const justUnder = `# ${'x'.repeat(MAX_SHARE_FILE_BYTES - MNEMONIC.length - 4)}\n${MNEMONIC}`;
    expect(new TextEncoder().encode(justUnder).length).toBeLessThanOrEqual(MAX_SHARE_FILE_BYTES);
    expect(readShareFile(justUnder, 'f')).toBe(MNEMONIC);
  });
});
