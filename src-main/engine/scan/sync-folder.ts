import fs from 'node:fs';
import path from 'node:path';
import type { Store } from '../store/store';
import type { FolderRow, PhotoRow } from '../store/types';
import { contentHash } from './content-hash';
import { walkPhotos, type FoundFile, type WalkIssue } from './walk';

export interface ScanReport {
  folderId: number;
  /** files seen on disk */
  seen: number;
  added: number[];
  /** content changed at the same path: vectors dropped, queued again */
  changed: number[];
  /** same content at a new path: id, vectors and albums kept */
  moved: number[];
  /** came back after being missing, with their vectors */
  restored: number[];
  /** no longer on disk: kept (status missing) so a later move keeps their identity */
  missing: number[];
  unchanged: number;
  /** files recorded as failed at scan time, and folders that could not be read */
  issues: WalkIssue[];
}

const hashOf = async (f: FoundFile): Promise<string | null> => {
  try {
    return await contentHash(f.path, f.size);
  } catch {
    return null; // unreadable now; the decoder will record the cause
  }
};

/** Runs `fn` over items with at most `limit` in flight. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

/** A report of no changes (also what a skipped scan returns, with its reason among the issues). */
export function emptyScanReport(folderId: number, seen = 0, issues: WalkIssue[] = []): ScanReport {
  return {
    folderId,
    seen,
    added: [],
    changed: [],
    moved: [],
    restored: [],
    missing: [],
    unchanged: 0,
    issues,
  };
}

/**
 * Brings the database in line with one folder on disk. Incremental: a file whose (size, mtime) is
 * unchanged is not read at all; otherwise its content hash decides between "touched" and "changed".
 * A file at an unknown path whose hash matches a photo that is no longer at its own path is a move.
 * All database changes of one scan are applied in a single transaction.
 */
export async function syncFolder(store: Store, folder: FolderRow): Promise<ScanReport> {
  const walk = await walkPhotos(folder.path);
  const report = emptyScanReport(folder.id, walk.files.length, [...walk.unreadableDirs, ...walk.rejected]);
  const known = new Map<string, PhotoRow>();
  for (const p of store.photosInFolder(folder.id)) known.set(p.path, p);
  const foundPaths = new Set(walk.files.map((f) => f.path));

  const same: PhotoRow[] = [];
  const touched: { row: PhotoRow; f: FoundFile; hash: string | null }[] = [];
  const fresh: FoundFile[] = [];
  for (const f of walk.files) {
    const row = known.get(f.path);
    if (!row) fresh.push(f);
    else if (row.size === f.size && row.mtime === f.mtime) same.push(row);
    else touched.push({ row, f, hash: null });
  }
  await mapLimit(touched, 8, async (t) => void (t.hash = await hashOf(t.f)));
  const freshHashes = await mapLimit(fresh, 8, hashOf);

  // Folders we could not read are not evidence that their photos are gone.
  const unreadable = walk.unreadableDirs.map((d) => d.path + path.sep);
  const vanished = new Map<number, PhotoRow>();
  for (const row of known.values()) {
    if (foundPaths.has(row.path) || row.status === 'missing') continue;
    if (unreadable.some((d) => row.path.startsWith(d))) continue;
    vanished.set(row.id, row);
  }

  store.transaction(() => {
    for (const row of same) {
      if (row.status === 'missing') {
        if (store.restorePhoto(row.id) === 'indexed') report.restored.push(row.id);
        else report.changed.push(row.id);
      } else report.unchanged++;
    }
    for (const { row, f, hash } of touched) {
      if (hash !== null && hash === row.hash) {
        store.touchPhoto(row.id, f.size, f.mtime);
        if (row.status === 'missing') {
          if (store.restorePhoto(row.id) === 'indexed') report.restored.push(row.id);
        } else report.unchanged++;
      } else {
        store.replacePhotoContent(row.id, f.size, f.mtime, hash);
        report.changed.push(row.id);
      }
    }
    fresh.forEach((f, i) => {
      const hash = freshHashes[i];
      const twin = hash === null ? undefined : findMoveSource(store, hash, f, vanished, foundPaths);
      if (twin) {
        store.movePhoto(twin.id, folder.id, f.path, f.size, f.mtime);
        vanished.delete(twin.id);
        if (twin.status === 'missing') store.restorePhoto(twin.id);
        report.moved.push(twin.id);
      } else {
        report.added.push(
          store.insertPhoto({ folderId: folder.id, path: f.path, size: f.size, mtime: f.mtime, hash }),
        );
      }
    });
    for (const row of vanished.values()) {
      store.setStatus(row.id, 'missing', 'file not found at its path');
      report.missing.push(row.id);
    }
    for (const issue of walk.rejected) {
      const row = store.photoByPath(issue.path);
      if (row) store.setStatus(row.id, 'failed', issue.error);
      else
        store.insertPhoto({
          folderId: folder.id,
          path: issue.path,
          size: 0,
          mtime: 0,
          hash: null,
          status: 'failed',
          error: issue.error,
        });
    }
  });
  return report;
}

/** A photo with the same content that is no longer at its recorded path (vanished here, or anywhere). */
function findMoveSource(
  store: Store,
  hash: string,
  f: FoundFile,
  vanished: Map<number, PhotoRow>,
  foundPaths: Set<string>,
): PhotoRow | undefined {
  const candidates = store
    .photosByHash(hash, f.size)
    .filter((p) => p.path !== f.path && !foundPaths.has(p.path));
  // Prefer one that vanished from this very scan, then one with the same file name.
  candidates.sort(
    (a, b) =>
      Number(vanished.has(b.id)) - Number(vanished.has(a.id)) ||
      Number(path.basename(b.path) === path.basename(f.path)) -
        Number(path.basename(a.path) === path.basename(f.path)),
  );
  for (const c of candidates) {
    if (vanished.has(c.id) || c.status === 'missing' || !fs.existsSync(c.path)) return c;
  }
  return undefined;
}
