// A recovery share as a text file (deskkms backup create --share-dir DIR writes one per share) and
// the reader that takes it, or a pasted mnemonic, back. The file is for people first: '#' lines say
// what it is and how to use it, then the words, a few to a line. The reader checks only the shape
// (letters and spaces); whether the words are SLIP-0039 words with a valid checksum is
// core/custody/slip39.ts's job (decodeMnemonic), which names the share by the same `where`.
import { KmsError } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';

/** One share of a backup's recovery secret, as written to its file and its printable page. */
export interface ShareInfo {
  /** 1-based position of this share in its set. */
  readonly index: number;
  /** How many shares were made (N). */
  readonly count: number;
  /** How many of them restore the backup (M). */
  readonly threshold: number;
  /** The SLIP-0039 identifier every share of the set carries (15 bits). */
  readonly identifier: number;
  readonly backupId: string;
  readonly vaultId: string;
  /** When the backup was made (ISO 8601). */
  readonly created: string;
  /** The SLIP-0039 mnemonic: lower-case words separated by single spaces. */
  readonly mnemonic: string;
}

/** A share file is a few hundred bytes; anything this big is something else given by mistake. */
export const MAX_SHARE_FILE_BYTES = 64 * 1024;

const WORDS_PER_LINE = 9;
// Longer than any field we write; only cuts a value that is not ours.
const FIELD_MAX = 200;

/** A field on a '#' line: escaped, so no value can end the comment and start a line of words. */
function field(value: string | number): string {
  return escapeText(String(value), FIELD_MAX);
}

/** The mnemonic's words (lower case), however they were spaced. */
function wordsOf(mnemonic: string): string[] {
  return mnemonic.trim().toLowerCase().split(/\s+/).filter((w) => w !== '');
}

/** The share file's text: comment lines, then the words WORDS_PER_LINE to a line, ending in a newline. */
export function formatShareFile(share: ShareInfo): string {
  const words = wordsOf(share.mnemonic);
  const lines = [
    `# DeskKMS recovery share ${field(share.index)} of ${field(share.count)}: any ${field(share.threshold)} of the ${field(share.count)} shares restore the backup.`,
    `# Backup id: ${field(share.backupId)}`,
    `# Vault id: ${field(share.vaultId)}`,
    `# Created: ${field(share.created)}`,
    `# Share set: ${field(share.identifier)} (SLIP-0039 mnemonic share, ${words.length} words)`,
    `# Restore: deskkms backup restore --in BACKUP --vault DIR --share THIS-FILE --share ... (${field(share.threshold)} shares)`,
    '# Keep apart from the other shares: whoever holds enough shares AND the backup file can open it.',
    '',
  ];
  for (let i = 0; i < words.length; i += WORDS_PER_LINE) lines.push(words.slice(i, i + WORDS_PER_LINE).join(' '));
  return `${lines.join('\n')}\n`;
}

function invalid(where: string, reason: string): KmsError {
  return new KmsError('Backup.ShareInvalid', `share ${escapeText(where, FIELD_MAX)}: ${reason}`);
}

/**
 * The mnemonic a share file (or a pasted mnemonic) holds: its words in lower case joined by single
 * spaces. '#' lines and blank lines are skipped; every other line must hold only letters and
 * spaces. Refuses with Backup.ShareInvalid naming `where` (the file name, or "share 2" for a pasted one).
 */
export function readShareFile(text: string, where: string): string {
  if (text.length > MAX_SHARE_FILE_BYTES || new TextEncoder().encode(text).length > MAX_SHARE_FILE_BYTES) {
    throw invalid(where, `over ${MAX_SHARE_FILE_BYTES / 1024} KiB: not a share file`);
  }
  // An editor may have saved a byte-order mark; it is not part of the share.
  const body = text.startsWith('\ufeff') ? text.slice(1) : text;
  const words: string[] = [];
  const lines = body.split(/\r\n|\n|\r/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/^[ \t]+|[ \t]+$/g, '');
    if (line === '' || line.startsWith('#')) continue;
    const bad = /[^A-Za-z \t]/u.exec(line);
    if (bad) {
      // Name the character, not the line: the line may hold words of the share.
      throw invalid(where, `line ${n + 1} holds "${escapeText(bad[0])}"; a share holds only words of letters a-z (lines starting with # are comments)`);
    }
    words.push(...wordsOf(line));
  }
  if (words.length === 0) throw invalid(where, 'holds no words');
  return words.join(' ');
}
