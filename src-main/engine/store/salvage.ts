/**
 * Reads what can still be read from a damaged library database (folders, albums and their photos by path)
 * and moves the damaged files aside, so a fresh database can be built from the folders. Everything else
 * in the library folder (vectors, index, thumbnails) is derived and rebuilt.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DB_FILE } from './open-database';

export interface Salvage {
  folders: string[];
  albums: { name: string; paths: string[] }[];
  /** what could not be read, in words */
  lost: string[];
  /** where the damaged database was moved */
  keptAt: string | null;
}

function readAll<T>(db: Database.Database, sql: string, what: string, lost: string[]): T[] {
  try {
    return db.prepare(sql).all() as T[];
  } catch (err) {
    lost.push(`${what}: ${(err as Error).message}`);
    return [];
  }
}

/**
 * `derived`: the files and folders beside the database made from its photo ids (index, thumbnails);
 * removed, since the new database numbers photos afresh. Named by the caller: the store knows nothing
 * of the layers built on it.
 */
export function salvageDatabase(dbDir: string, derived: readonly string[]): Salvage {
  const file = path.join(dbDir, DB_FILE);
  const out: Salvage = { folders: [], albums: [], lost: [], keptAt: null };
  if (!fs.existsSync(file)) return out;
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    out.lost.push(`the whole database: ${(err as Error).message}`);
  }
  if (db) {
    out.folders = readAll<{ path: string }>(
      db,
      'SELECT path FROM folders ORDER BY id',
      'folders',
      out.lost,
    ).map((r) => r.path);
    const albums = readAll<{ id: number; name: string }>(
      db,
      'SELECT id, name FROM albums ORDER BY id',
      'albums',
      out.lost,
    );
    const members = readAll<{ album_id: number; path: string }>(
      db,
      `SELECT ap.album_id, p.path FROM album_photos ap JOIN photos p ON p.id = ap.photo_id
       ORDER BY ap.added_at, ap.photo_id`,
      'album photos',
      out.lost,
    );
    out.albums = albums.map((a) => ({
      name: a.name,
      paths: members.filter((m) => m.album_id === a.id).map((m) => m.path),
    }));
    db.close();
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  out.keptAt = `${file}.damaged-${stamp}`;
  fs.renameSync(file, out.keptAt);
  for (const suffix of ['-wal', '-shm']) {
    if (fs.existsSync(file + suffix)) fs.renameSync(file + suffix, out.keptAt + suffix);
  }
  // Derived from the old photo ids: rebuilt with the new ones.
  for (const name of derived) fs.rmSync(path.join(dbDir, name), { recursive: true, force: true });
  return out;
}
