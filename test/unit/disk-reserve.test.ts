/**
 * The disk reserve: a job's end is recorded even when the disk is full, by spending the reserve; with no
 * reserve left the error surfaces unchanged. The full disk is simulated by a statement that throws SQLITE_FULL
 * until room appears, so this runs without a tmpfs (faults-disk.test.ts covers a real one, as root).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Store } from '../../src-main/engine/store/store';
import { RESERVE_FILE } from '../../src-main/engine/store/disk-reserve';
import { tempDir } from '../helpers/images';

/** Makes the job-end update fail with SQLITE_FULL while `full()` holds. */
function fullDiskWhile(store: Store, full: () => boolean): void {
  const real = store.ps.prepare.bind(store.ps);
  store.ps.prepare = ((sql: string) => {
    const stmt = real(sql);
    if (!sql.startsWith('UPDATE jobs SET status')) return stmt;
    return {
      run: (...args: unknown[]) => {
        if (full()) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
        return stmt.run(...args);
      },
    };
  }) as typeof store.ps.prepare;
}

test('a job start holds the reserve; a full disk spends it to record how the job ended', () => {
  const dir = tempDir('likeness-reserve-');
  const store = Store.open(dir);
  try {
    const reserve = path.join(dir, RESERVE_FILE);
    assert.equal(fs.existsSync(reserve), false, 'opening alone writes nothing');
    const job = store.startJob('index');
    assert.ok(fs.statSync(reserve).size > 0, 'a job start makes the reserve');
    fullDiskWhile(store, () => fs.existsSync(reserve));
    store.finishJob(job, 'failed', 'the disk is full');
    assert.equal(fs.existsSync(reserve), false, 'the reserve was spent');
    const row = store.listJobs().find((j) => j.id === job)!;
    assert.equal(row.status, 'failed');
    assert.equal(row.error, 'the disk is full');
  } finally {
    store.close();
  }
});

test('with no reserve left, a full disk surfaces as the same error', () => {
  const dir = tempDir('likeness-reserve-');
  const store = Store.open(dir);
  try {
    const job = store.startJob('index');
    fs.rmSync(path.join(dir, RESERVE_FILE));
    fullDiskWhile(store, () => true);
    assert.throws(() => store.finishJob(job, 'failed'), /disk is full/);
  } finally {
    store.close();
  }
});
