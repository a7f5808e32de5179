import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { assertSound, explainCorruption } from './integrity';
import { MIGRATIONS } from './migrations/index';

export const DB_FILE = 'library.sqlite';

/** Thrown when the database folder cannot be used; the message names the folder and the cause. */
export class DatabaseFolderError extends Error {}

/** Opens (creating if needed) the library database in `dbDir`, in WAL mode, migrated to the latest schema. */
export function openDatabase(dbDir: string): Database.Database {
  try {
    fs.mkdirSync(dbDir, { recursive: true });
    fs.accessSync(dbDir, fs.constants.W_OK | fs.constants.R_OK);
  } catch (err) {
    throw new DatabaseFolderError(
      `Cannot use database folder ${dbDir}: ${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`.trim(),
    );
  }
  let db: Database.Database;
  try {
    db = new Database(path.join(dbDir, DB_FILE));
    db.pragma('journal_mode = WAL');
  } catch (err) {
    const damaged = explainCorruption(err, dbDir);
    if (damaged !== err) throw damaged;
    throw new DatabaseFolderError(`Cannot open database in ${dbDir}: ${(err as Error).message}`);
  }
  // NORMAL is durable against process crashes (kill -9) in WAL mode; only power loss can drop the last commits.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  try {
    // Structure only (no index cross-checks): the full integrity_check runs later, in idle time.
    assertSound(db, dbDir);
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * Applies pending migrations, each in its own transaction, tracked by PRAGMA user_version. `target`
 * (default: the latest) lets the upgrade test build a database as an older app left it.
 */
export function migrate(db: Database.Database, target = MIGRATIONS.length): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `Database schema version ${current} is newer than this app (${MIGRATIONS.length}); update Likeness.`,
    );
  }
  for (let v = current; v < Math.min(target, MIGRATIONS.length); v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db.pragma('user_version', { simple: true }) as number;
}
