/** Worker: runs PRAGMA integrity_check on a read-only connection (seconds on a large library). */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { runCheck } from './integrity';

const { dbFile } = workerData as { dbFile: string };
try {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    parentPort!.postMessage({ problems: runCheck(db, 'integrity_check', 20) });
  } finally {
    db.close();
  }
} catch (err) {
  parentPort!.postMessage({ problems: [(err as Error).message] });
}
