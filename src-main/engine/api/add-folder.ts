/**
 * Adding a folder from the app: the library's addFolder, with the two answers a user needs instead of a
 * silent no-op: the folder (or a parent of it) is already in the library, and the folder has no photos.
 * (The CLI keeps Library.addFolder's lenient behaviour: adding a known folder again rescans it.)
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Library } from '../library';
import type { FolderRow } from '../store/types';
import { isInsideFolder } from '../scan/inside-folder';
import { PHOTO_EXTENSIONS } from '../scan/walk';
import { InvalidInputError } from '../errors';

/** Adds `dir` and scans it; throws a domain error when it is unknown, already in the library, or has no photos. */
export async function addLibraryFolder(
  lib: Library,
  dir: string,
  opts: { confirm?: boolean } = {},
): Promise<FolderRow> {
  const known = knownFolder(lib, dir);
  if (known)
    throw new InvalidInputError(
      known.real === known.folder.path
        ? `${known.folder.path} is already in the library`
        : `${dir} is already in the library, as part of ${known.folder.path}`,
    );
  const added = await lib.addFolder(dir, opts);
  if (added.scan.seen === 0) {
    // Nothing to index: keep the library as it was rather than a folder that shows "0 photos".
    lib.removeFolder(added.folder.id);
    throw new InvalidInputError(
      `No photos in this folder: ${added.folder.path} holds no ${[...PHOTO_EXTENSIONS].join(' ')} files, subfolders included`,
    );
  }
  return added.folder;
}

/** The library folder that already holds `dir` (the same folder or one above it), by real path. */
function knownFolder(lib: Library, dir: string): { folder: FolderRow; real: string } | null {
  let real: string;
  try {
    real = fs.realpathSync(path.resolve(dir));
  } catch {
    return null; // Library.addFolder says what is wrong with the path
  }
  const folder = lib.store.listFolders().find((f) => isInsideFolder(real, f.path));
  return folder ? { folder, real } : null;
}
