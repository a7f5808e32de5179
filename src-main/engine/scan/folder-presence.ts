/**
 * Whether a library folder is there now. A folder that vanished (an unmounted drive, a renamed folder) is
 * left out of results without touching its photos' data; an unmounted drive often leaves its mount point
 * behind as an empty folder, so an empty folder counts as unavailable too (a folder the user really
 * emptied is best removed from the library).
 */
import fs from 'node:fs';

const CACHE_MS = 2000;
export type FolderPresence = 'ok' | 'empty' | 'gone';
const cache = new Map<string, { at: number; state: FolderPresence }>();

function probe(dir: string): FolderPresence {
  try {
    const d = fs.opendirSync(dir);
    try {
      return d.readSync() !== null ? 'ok' : 'empty';
    } finally {
      d.closeSync();
    }
  } catch {
    return 'gone';
  }
}

/** Whether `dir` exists, can be read and has entries; cached briefly (queries ask on every call). */
export function folderPresence(dir: string): FolderPresence {
  const now = Date.now();
  const hit = cache.get(dir);
  if (hit && now - hit.at < CACHE_MS) return hit.state;
  const state = probe(dir);
  cache.set(dir, { at: now, state });
  return state;
}

/** A folder is unavailable when it is gone, or empty while the library still holds photos from it. */
export function folderAvailable(dir: string, photosInLibrary: number): boolean {
  const state = folderPresence(dir);
  return state === 'ok' || (state === 'empty' && photosInLibrary === 0);
}
