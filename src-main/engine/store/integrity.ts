/**
 * Database health: a quick structural check at open (PRAGMA quick_check), a full integrity_check in a
 * worker thread when the app is idle, and one message for a damaged database that says how to recover.
 */
import type Database from 'better-sqlite3';
import { NotReadyError } from '../errors';
import { spawnModuleWorker } from '../runtime/module-worker';

export class DatabaseDamagedError extends NotReadyError {
  constructor(
    readonly dbDir: string,
    readonly detail: string,
  ) {
    super(
      `The library database in ${dbDir} is damaged (${detail}). Your photos are not affected. ` +
        `To recover, run "likeness recover --db ${dbDir}": it keeps the damaged file aside, rebuilds the ` +
        `library from your folders and keeps your albums where they can still be read.`,
    );
  }
}

const isCorruption = (err: unknown) =>
  /^SQLITE_(CORRUPT|NOTADB)/.test(String((err as { code?: unknown })?.code ?? ''));

/**
 * Tables checked at every open: what cannot be rebuilt from the folders (albums) and what every command
 * reads. The large derived tables (pooled, embeddings) are left to the full check in idle time: a
 * quick_check of a whole 400 MB library took 21 s on the reference machine (under load).
 */
const CHECKED_AT_OPEN = ['folders', 'photos', 'albums', 'album_photos', 'heads', 'jobs'];

/** Problems found by `PRAGMA <check>(limit or table)`, or [] when the database is sound. */
export function runCheck(
  db: Database.Database,
  check: 'quick_check' | 'integrity_check',
  limitOrTable: number | string = 10,
): string[] {
  const arg = typeof limitOrTable === 'number' ? limitOrTable : JSON.stringify(limitOrTable);
  const rows = db.pragma(`${check}(${arg})`, { simple: false }) as Record<string, string>[];
  // One problem per line; SQLite prefixes them with a "*** in database main ***" header.
  const lines = rows
    .flatMap((r) => String(Object.values(r)[0]).split('\n'))
    .filter((l) => !l.startsWith('***'));
  return lines.length === 1 && lines[0] === 'ok' ? [] : lines;
}

/** The quick check at open: throws DatabaseDamagedError with the recovery path if the file is damaged. */
export function assertSound(db: Database.Database, dbDir: string): void {
  const problems: string[] = [];
  try {
    const tables = new Set(
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[],
    );
    for (const table of CHECKED_AT_OPEN.filter((t) => tables.has(t)))
      problems.push(...runCheck(db, 'quick_check', table));
  } catch (err) {
    if (!isCorruption(err)) throw err;
    problems.push((err as Error).message);
  }
  if (problems.length) throw new DatabaseDamagedError(dbDir, problems.slice(0, 3).join('; '));
}

/** Wraps SQLite's corruption errors met later (a page damaged after open) in the same advice. */
export function explainCorruption(err: unknown, dbDir: string): unknown {
  return isCorruption(err) ? new DatabaseDamagedError(dbDir, (err as Error).message) : err;
}

/** Full integrity_check on its own read-only connection in a worker thread; resolves to the problems found. */
export function integrityCheckInWorker(dbFile: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const worker = spawnModuleWorker(import.meta.url, './integrity.worker', { dbFile });
    worker.once('message', (m: { problems?: string[]; error?: string }) => {
      void worker.terminate();
      if (m.error) reject(new Error(m.error));
      else resolve(m.problems ?? []);
    });
    worker.once('error', reject);
  });
}
