/** A photos-table row as SQLite returns it, and its typed form (shared by the store's queries). */
import type { PhotoRow, PhotoStatus } from './types';

export interface RawPhoto {
  id: number;
  folder_id: number;
  path: string;
  size: number;
  mtime: number;
  hash: string | null;
  width: number | null;
  height: number | null;
  taken_at: number | null;
  status: PhotoStatus;
  error: string | null;
  added_at: number;
}

export const toPhoto = (r: RawPhoto): PhotoRow => ({
  id: r.id,
  folderId: r.folder_id,
  path: r.path,
  size: r.size,
  mtime: r.mtime,
  hash: r.hash,
  width: r.width,
  height: r.height,
  takenAt: r.taken_at,
  status: r.status,
  error: r.error,
  addedAt: r.added_at,
});
