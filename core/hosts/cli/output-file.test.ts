// writeFilesAtomically: every file or none. A failure while moving the files into place (a name
// taken meanwhile, a directory where a file should go) leaves the targets as they were: the files
// already moved are removed, a file --force replaced is put back, and no temp is left behind.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { KmsError } from '../../contract/errors.ts';
import { writeFilesAtomically } from './output-file.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'deskkms-output-file-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const exists = (target: string) => new KmsError('InvalidParameter', `${target} exists`);
const files = (names: string[]) => names.map((name) => ({ target: join(dir, name), data: `new ${name}\n` }));

it('writes all the files, each whole, with the mode asked', async () => {
  expect(await writeFilesAtomically(files(['a.sig', 'b.sig']), { mode: 0o644, replace: false, exists })).toEqual([join(dir, 'a.sig'), join(dir, 'b.sig')]);
  expect(readdirSync(dir).sort()).toEqual(['a.sig', 'b.sig']);
  expect(readFileSync(join(dir, 'b.sig'), 'utf8')).toBe('new b.sig\n');
});

it('without replace: a name taken after the check (a dangling symlink) removes the files already moved', async () => {
  symlinkSync('/nonexistent/deskkms', join(dir, 'c.pub'));
  await expect(writeFilesAtomically(files(['a.sig', 'b.sig', 'c.pub']), { mode: 0o644, replace: false, exists })).rejects.toThrow(`${join(dir, 'c.pub')} exists`);
  expect(readdirSync(dir)).toEqual(['c.pub']);
});

it('with replace: a failure on a later file puts back the file an earlier one replaced', async () => {
  writeFileSync(join(dir, 'a.sig'), 'old a\n');
  mkdirSync(join(dir, 'c.pub')); // a directory where a file should go: the move fails
  await expect(writeFilesAtomically(files(['a.sig', 'b.sig', 'c.pub']), { mode: 0o644, replace: true, exists })).rejects.toThrow();
  expect(readdirSync(dir).sort()).toEqual(['a.sig', 'c.pub']);
  expect(readFileSync(join(dir, 'a.sig'), 'utf8')).toBe('old a\n');
  // And when nothing fails, the replaced file's extra link is gone too.
  rmSync(join(dir, 'c.pub'), { recursive: true });
  await writeFilesAtomically(files(['a.sig', 'b.sig']), { mode: 0o644, replace: true, exists });
  expect(readdirSync(dir).sort()).toEqual(['a.sig', 'b.sig']);
  expect(readFileSync(join(dir, 'a.sig'), 'utf8')).toBe('new a.sig\n');
});
