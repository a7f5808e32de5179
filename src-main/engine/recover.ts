/**
 * Recovery from a damaged library database: salvage folders and albums, start a fresh database, scan the
 * folders again and put the albums back by file path. The photos are then indexed as in a first run.
 */
import type { PhotoEmbedder } from './embed/photo-embedder';
import { INDEX_FILE, SIDECAR_FILE } from './index/ann-index';
import { THUMBNAILS_FOLDER } from './pipeline/indexer';
import { Library, type LibraryOptions } from './library';
import { WriteLock } from './store/library-lock';
import { LibraryLockedError } from './store/library-lock';
import { salvageDatabase, type Salvage } from './store/salvage';

export interface RecoveryReport extends Salvage {
  /** folders that could not be added back (gone, refused), with why */
  skippedFolders: { path: string; error: string }[];
  albumsRestored: number;
  albumPhotosRestored: number;
}

/** Rebuilds the library in `dbDir`; returns the open Library (for indexing) and what was kept. */
export async function recoverLibrary(
  dbDir: string,
  embedder: PhotoEmbedder,
  opts: LibraryOptions = {},
): Promise<{ lib: Library; report: RecoveryReport }> {
  // Nobody else may be writing while the database is replaced.
  const lock = WriteLock.tryAcquire(dbDir);
  if (!(lock instanceof WriteLock)) throw new LibraryLockedError(lock.heldBy, dbDir);
  let salvage: Salvage;
  try {
    salvage = salvageDatabase(dbDir, [INDEX_FILE, SIDECAR_FILE, THUMBNAILS_FOLDER]);
  } finally {
    lock.release();
  }
  const lib = await Library.open(dbDir, embedder, opts);
  const report: RecoveryReport = {
    ...salvage,
    skippedFolders: [],
    albumsRestored: 0,
    albumPhotosRestored: 0,
  };
  for (const folder of salvage.folders) {
    try {
      await lib.addFolder(folder, { confirm: true });
    } catch (err) {
      report.skippedFolders.push({ path: folder, error: (err as Error).message });
    }
  }
  for (const album of salvage.albums) {
    const ids = album.paths.flatMap((p) => lib.photoByPath(p)?.id ?? []);
    lib.addToAlbum(lib.createAlbum(album.name).id, ids);
    report.albumsRestored++;
    report.albumPhotosRestored += ids.length;
  }
  return { lib, report };
}
