/**
 * One writer per library: a lock file beside the database, created exclusively (O_EXCL) and holding the
 * owner's pid. Readers never take it. A lock whose process is gone (a crash, kill -9) is taken over.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BusyError } from '../errors';

export const LOCK_FILE = 'library.lock';

export class LibraryLockedError extends BusyError {
  constructor(
    readonly pid: number,
    dbDir: string,
  ) {
    super(
      `This library (${dbDir}) is open in another Likeness (pid ${pid}). Close that one or wait for it to finish, then try again; searching works meanwhile.`,
    );
  }
}

/** True if a process with this pid exists (EPERM: it exists but belongs to someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number(JSON.parse(fs.readFileSync(file, 'utf8')).pid);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export class WriteLock {
  private released = false;

  private constructor(readonly file: string) {}

  /** Takes the lock, or reports the pid of the live process holding it. */
  static tryAcquire(dbDir: string): WriteLock | { heldBy: number } {
    const file = path.join(dbDir, LOCK_FILE);
    const body = JSON.stringify({ pid: process.pid, since: Date.now() });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.writeFileSync(file, body, { flag: 'wx' });
        return new WriteLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const pid = readPid(file);
      if (pid === null) {
        // Being written by its creator this very moment, or truncated by a crash: a fresh one is left alone.
        const age = Date.now() - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0);
        if (age < 2000) return { heldBy: 0 };
      } else if (pid === process.pid || alive(pid)) return { heldBy: pid };
      // Stale: move it aside under a unique name (only one taker's rename succeeds), then create ours.
      const aside = `${file}.stale-${process.pid}`;
      try {
        fs.renameSync(file, aside);
        const moved = readPid(aside);
        // Another process took it over between our read and our rename: put its live lock back.
        if (moved !== pid && moved !== null && alive(moved)) {
          fs.linkSync(aside, file);
          fs.rmSync(aside, { force: true });
          return { heldBy: moved };
        }
        fs.rmSync(aside, { force: true });
      } catch {
        // another process took it over first; look again
      }
    }
    return { heldBy: readPid(file) ?? 0 };
  }

  /** The pid of the live process holding the lock, if any (readers report it; they never take it). */
  static holder(dbDir: string): number | null {
    const pid = readPid(path.join(dbDir, LOCK_FILE));
    return pid !== null && alive(pid) ? pid : null;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    // Only our own lock: never remove one a successor created after a takeover.
    if (readPid(this.file) === process.pid) fs.rmSync(this.file, { force: true });
  }
}
