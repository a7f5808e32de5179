/**
 * Read-only queries the app's views need beyond Store's own: pages of photos in a chosen order (the
 * gallery), the albums of a photo, album covers, pages of failures. Kept beside Store so all SQL stays in
 * store/; they take the Store and only read.
 */
import type { Store } from './store';
import type { PhotoRow, PhotoStatus } from './types';
import { toPhoto, type RawPhoto } from './photo-row';

export type PhotoSort = 'taken' | 'folder' | 'added';

export interface PhotoPageQuery {
  offset: number;
  limit: number;
  sort: PhotoSort;
  folderId?: number;
  albumId?: number;
  /** which photos to list (default: indexed ones, the ones with a thumbnail) */
  status?: PhotoStatus;
}

// Newest first for capture and addition time; by folder, then path, for browsing a folder's order.
const ORDER: Record<PhotoSort, string> = {
  taken: 'COALESCE(p.taken_at, p.mtime) DESC, p.id DESC',
  added: 'p.added_at DESC, p.id DESC',
  folder: 'f.path, p.path',
};

/** FROM/WHERE of a gallery view, with its arguments: one definition for its pages and its ids. */
function viewQuery(q: PhotoPageQuery): { from: string; args: (string | number)[] } {
  const where = ['p.status = ?'];
  const args: (string | number)[] = [q.status ?? 'indexed'];
  if (q.folderId !== undefined) {
    where.push('p.folder_id = ?');
    args.push(q.folderId);
  }
  if (q.albumId !== undefined) {
    where.push('p.id IN (SELECT photo_id FROM album_photos WHERE album_id = ?)');
    args.push(q.albumId);
  }
  return { from: `FROM photos p JOIN folders f ON f.id = p.folder_id WHERE ${where.join(' AND ')}`, args };
}

function viewTotal(store: Store, from: string, args: (string | number)[]): number {
  return store.ps
    .prepare(`SELECT COUNT(*) ${from}`)
    .pluck()
    .get(...args) as number;
}

/** One page of photos in the requested order, and how many match in all. */
export function photoPage(store: Store, q: PhotoPageQuery): { total: number; rows: PhotoRow[] } {
  const { from, args } = viewQuery(q);
  const rows = store.ps
    .prepare(`SELECT p.* ${from} ORDER BY ${ORDER[q.sort]} LIMIT ? OFFSET ?`)
    .all(...args, q.limit, q.offset) as RawPhoto[];
  return { total: viewTotal(store, from, args), rows: rows.map(toPhoto) };
}

/** The ids of a range of the same view, in the same order (selecting all of it costs no photo rows). */
export function photoIdRange(store: Store, q: PhotoPageQuery): { total: number; ids: number[] } {
  const { from, args } = viewQuery(q);
  const ids = store.ps
    .prepare(`SELECT p.id ${from} ORDER BY ${ORDER[q.sort]} LIMIT ? OFFSET ?`)
    .pluck()
    .all(...args, q.limit, q.offset) as number[];
  return { total: viewTotal(store, from, args), ids };
}

/** The albums a photo belongs to, by name. */
export function albumsOfPhoto(store: Store, photoId: number): { id: number; name: string }[] {
  return store.ps
    .prepare(
      `SELECT a.id, a.name FROM albums a JOIN album_photos ap ON ap.album_id = a.id
       WHERE ap.photo_id = ? ORDER BY a.name`,
    )
    .all(photoId) as { id: number; name: string }[];
}

/** How many of an album's photos are still in the library, and the first of them (its cover). */
export interface AlbumPresence {
  count: number;
  cover: number | null;
}

/** Per album: its presence (albums with no photo left have no entry). */
export function albumPresence(store: Store): Map<number, AlbumPresence> {
  const rows = store.ps
    .prepare(
      `SELECT ap.album_id AS id, COUNT(*) AS n,
              (SELECT ap2.photo_id FROM album_photos ap2 JOIN photos p2 ON p2.id = ap2.photo_id
               WHERE ap2.album_id = ap.album_id AND p2.status = 'indexed'
               ORDER BY ap2.added_at, ap2.photo_id LIMIT 1) AS cover
       FROM album_photos ap JOIN photos p ON p.id = ap.photo_id
       WHERE p.status IN ('indexed', 'pending') GROUP BY ap.album_id`,
    )
    .all() as { id: number; n: number; cover: number | null }[];
  return new Map(rows.map((r) => [r.id, { count: r.n, cover: r.cover }]));
}

/** One page of photos that could not be indexed, with the reason. */
export function failurePage(
  store: Store,
  offset: number,
  limit: number,
): { total: number; rows: PhotoRow[] } {
  const total = store.ps
    .prepare(`SELECT COUNT(*) FROM photos WHERE status = 'failed'`)
    .pluck()
    .get() as number;
  const rows = store.ps
    .prepare(`SELECT * FROM photos WHERE status = 'failed' ORDER BY id LIMIT ? OFFSET ?`)
    .all(limit, offset) as RawPhoto[];
  return { total, rows: rows.map(toPhoto) };
}
