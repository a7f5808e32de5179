import fs from 'node:fs/promises';
import path from 'node:path';

/** Extensions the decoder understands (compared lower-case). GIF: first frame. */
export const PHOTO_EXTENSIONS = new Set([
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.avif',
  '.tif',
  '.tiff',
  '.gif',
  '.heic',
  '.heif',
]);

/** Names never entered or indexed (besides dot-files): OS and NAS metadata folders and files. */
const SYSTEM_NAMES = new Set([
  'thumbs.db',
  'desktop.ini',
  '$recycle.bin',
  'system volume information',
  '@eadir',
  '#recycle',
  'lost+found',
  '__macosx',
]);

export interface FoundFile {
  path: string;
  size: number;
  /** integer milliseconds */
  mtime: number;
}

export interface WalkIssue {
  path: string;
  error: string;
}

export interface WalkResult {
  files: FoundFile[];
  /** files that cannot be indexed for a reason known at scan time (e.g. a name that is not valid UTF-8) */
  rejected: WalkIssue[];
  /** folders that could not be read; their photos are not marked missing */
  unreadableDirs: WalkIssue[];
}

export function isPhotoName(name: string): boolean {
  return PHOTO_EXTENSIONS.has(path.extname(name).toLowerCase());
}

function isHiddenOrSystem(name: string): boolean {
  return name.startsWith('.') || SYSTEM_NAMES.has(name.toLowerCase());
}

/**
 * Recursively lists the photo files under `root`. Follows symbolic links but remembers the real path of
 * every folder entered, so a link loop (or two links to one folder) is walked once. File names are read
 * as bytes: a name that is not valid UTF-8 cannot be stored or reopened faithfully, so it is reported
 * (rejected) instead of silently mangled.
 */
export async function walkPhotos(root: string): Promise<WalkResult> {
  const result: WalkResult = { files: [], rejected: [], unreadableDirs: [] };
  const seenDirs = new Set<string>();
  const seenFiles = new Set<string>();

  const visit = async (dir: string): Promise<void> => {
    let real: string;
    try {
      real = await fs.realpath(dir);
    } catch (err) {
      result.unreadableDirs.push({ path: dir, error: (err as Error).message });
      return;
    }
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    let entries: import('node:fs').Dirent<Buffer>[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      result.unreadableDirs.push({ path: dir, error: (err as Error).message });
      return;
    }
    const subdirs: string[] = [];
    const stats: Promise<void>[] = [];
    for (const e of entries) {
      const raw = e.name;
      const name = raw.toString('utf8');
      if (isHiddenOrSystem(name)) continue;
      const full = path.join(dir, name);
      const validName = Buffer.from(name, 'utf8').equals(raw);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        if (!validName) continue;
        try {
          const st = await fs.stat(full);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch {
          continue; // dangling link
        }
      }
      if (isDir) {
        if (validName) subdirs.push(full);
        else
          result.unreadableDirs.push({
            path: full,
            error: 'folder name is not valid UTF-8; rename it to index its photos',
          });
        continue;
      }
      if (!isFile || !isPhotoName(name)) continue;
      if (!validName) {
        result.rejected.push({
          path: full,
          error: 'file name is not valid UTF-8; rename the file to index it',
        });
        continue;
      }
      stats.push(
        (async () => {
          try {
            const st = await fs.stat(full);
            if (e.isSymbolicLink()) {
              const realFile = await fs.realpath(full);
              if (seenFiles.has(realFile)) return;
              seenFiles.add(realFile);
            }
            result.files.push({ path: full, size: st.size, mtime: Math.floor(st.mtimeMs) });
          } catch (err) {
            result.rejected.push({ path: full, error: `cannot read file: ${(err as Error).message}` });
          }
        })(),
      );
    }
    await Promise.all(stats);
    for (const d of subdirs) await visit(d);
  };

  await visit(root);
  return result;
}
