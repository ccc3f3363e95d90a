// The atomic directory writer of public-key bundles: puts the files of a bundle (their names and
// bytes come from core/x509/public-bundle.ts, which knows the formats) on disk as one directory
// that appears whole or not at all, never over an existing bundle. Runtime: Node.
import fs from 'node:fs/promises';
import path from 'node:path';
import { type KmsError, invalidParameter } from '../contract/errors.ts';
import { errnoCode, fsyncPath } from '../vault/durable.ts';
import { MANIFEST_FILE, assertId, bundleFileNames, bundleFiles, chainFileName, type PublicKeyBundle } from './public-bundle.ts';

async function entriesOf(dir: string): Promise<string[] | undefined> {
  try {
    return await fs.readdir(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    if (errnoCode(error) === 'ENOTDIR') throw invalidParameter('Directory', `${dir} exists and is not a directory`);
    throw error;
  }
}

function refuseExisting(dir: string, entries: readonly string[], keyVersionId: string): KmsError {
  const mine = new Set<string>([...Object.values(bundleFileNames(keyVersionId)), chainFileName(keyVersionId), MANIFEST_FILE]);
  const clash = entries.filter((e) => mine.has(e));
  return clash.length > 0
    ? invalidParameter('Directory', `${dir} already holds a bundle of key version ${keyVersionId} (${clash.join(', ')}); bundles are never overwritten`)
    : invalidParameter('Directory', `${dir} is not empty; a bundle is written into a new or empty directory`);
}

/**
 * Writes the bundle as the directory `dir`: `<KeyVersionId>.pub.pem`, `.pub.der`, `.jwk.json`
 * and `.pub` (those the key has) and `manifest.json`. Returns the written paths.
 *
 * The directory is the unit of atomicity: the files are written and fsynced in a fresh temporary
 * directory beside `dir` (`.<name>.partial-XXXXXX`, same parent, so the same file system), which
 * is then renamed to `dir` and the parent fsynced. A reader (or a crash) sees either no bundle or
 * the whole of it. `dir` must not exist or must be empty: an existing bundle (of this version or
 * any other) is never overwritten or merged into, and is refused with InvalidParameter, also when
 * it appears concurrently (the rename fails rather than replacing a non-empty directory). The
 * parent directory is created if missing. On any failure the temporary directory is removed.
 * The bundle directory has mode 0700 (from mkdtemp); the files are public keys and 0644 & ~umask.
 */
export async function writeBundle(dir: string, bundle: PublicKeyBundle): Promise<string[]> {
  if (typeof dir !== 'string' || dir.length === 0) throw invalidParameter('Directory', 'is required');
  const keyVersionId = assertId(bundle.manifest.KeyVersionId, 'KeyVersionId');
  const files = bundleFiles(bundle);
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  if (parent === target) throw invalidParameter('Directory', 'cannot be a file-system root');

  const existing = await entriesOf(target);
  if (existing && existing.length > 0) throw refuseExisting(target, existing, keyVersionId);

  await fs.mkdir(parent, { recursive: true });
  const temp = await fs.mkdtemp(path.join(parent, `.${path.basename(target)}.partial-`));
  let renamed = false;
  try {
    for (const [name, data] of files) {
      const handle = await fs.open(path.join(temp, name), 'wx', 0o644);
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    await fsyncPath(temp);
    if (process.platform === 'win32' && existing) await fs.rmdir(target); // Windows will not rename over a directory.
    try {
      await fs.rename(temp, target);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
        const now = await entriesOf(target).catch(() => undefined);
        throw now && now.length > 0 ? refuseExisting(target, now, keyVersionId) : invalidParameter('Directory', `${target} appeared while the bundle was being written`);
      }
      throw error;
    }
    renamed = true;
    await fsyncPath(parent);
  } finally {
    if (!renamed) await fs.rm(temp, { recursive: true, force: true });
  }
  return files.map(([name]) => path.join(target, name));
}
