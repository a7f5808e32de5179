/**
 * A small file kept beside the library database, made when a job starts (Store.startJob). When the disk
 * fills, the engine deletes it to make room for the one write that must still happen: recording how the
 * run ended (a job left 'running' would only become 'interrupted' at the next open, without the reason).
 * The next job to start with room makes it again.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const RESERVE_FILE = 'disk-reserve';
/** A few WAL frames of 4 KiB pages: enough for a job row's update, small beside any library. */
const RESERVE_BYTES = 64 * 1024;

export class DiskReserve {
  private readonly file: string;

  constructor(dbDir: string) {
    this.file = path.join(dbDir, RESERVE_FILE);
  }

  /** Makes sure the reserve exists; with no room for it, there is none (and nothing fails). */
  hold(): void {
    try {
      const size = fs.statSync(this.file, { throwIfNoEntry: false })?.size;
      if (size === RESERVE_BYTES) return;
      // Random bytes, so a compressing or deduplicating file system cannot store it in less room.
      fs.writeFileSync(this.file, crypto.randomBytes(RESERVE_BYTES));
    } catch {
      fs.rmSync(this.file, { force: true });
    }
  }

  /** Frees the reserve's room; false if there was none to free. */
  release(): boolean {
    try {
      fs.unlinkSync(this.file);
      return true;
    } catch {
      return false;
    }
  }
}
