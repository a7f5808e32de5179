/**
 * Fault suite, full disk: the real CLI indexes into a library on a 1 MiB tmpfs until SQLite reports
 * SQLITE_FULL. The process ends with a plain-words message (no stack), the job is recorded as failed with
 * the reason (the disk reserve makes room for that write), no thumbnail outlives an uncommitted photo, and
 * once there is room the next run finishes the rest.
 * Needs `mount -t tmpfs` (root): skipped, saying so, where mounting is not allowed.
 */
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Store } from '../../src-main/engine/store/store';
import { runCli, startServeChild } from '../helpers/child-process';
import { makePhoto, tempDir } from '../helpers/images';

const N = 80;

/** A fresh 1 MiB tmpfs, or why there cannot be one. */
function smallDisk(): { mountPoint: string; skip: string | false } {
  const mountPoint = tempDir('likeness-faults-tmpfs-');
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]);
  const why = (mounted.stderr?.toString() || mounted.error?.message || 'not root').trim();
  return { mountPoint, skip: mounted.status === 0 ? false : `cannot mount a tmpfs here (${why})` };
}
const { mountPoint, skip } = smallDisk();
const serveDisk = smallDisk();

test(
  'a full disk stops indexing with a plain-words message; the next run with room finishes',
  { skip },
  async (t) => {
    t.after(() => spawnSync('umount', [mountPoint]));
    const photos = tempDir('likeness-faults-photos-');
    for (let i = 0; i < N; i++) await makePhoto(path.join(photos, `p${i}.jpg`), i);
    const db = path.join(mountPoint, 'db');

    const full = await runCli(['index', photos, '--db', db]);
    assert.equal(full.code, 1, full.stderr);
    assert.match(full.stderr, /The disk holding the library \(.*\) is full\. Free some space there/);
    assert.match(full.stderr, /Photos indexed so far are kept/);
    assert.doesNotMatch(full.stderr, /SqliteError|\n\s+at /, 'no raw error or stack trace');

    const store = Store.open(db);
    let indexedBefore: number;
    try {
      indexedBefore = store.counts().indexed;
      assert.ok(indexedBefore < N, `the disk filled before the end (${indexedBefore} of ${N} indexed)`);
      // The disk reserve makes room for this last write, so the reason is recorded, not just 'interrupted'.
      const [job] = store.listJobs();
      assert.equal(job?.status, 'failed', JSON.stringify(job));
      assert.match(job.error ?? '', /is full/);
    } finally {
      store.close();
    }

    // Room again: the same command resumes and finishes; nothing was lost or done twice.
    assert.equal(spawnSync('mount', ['-o', 'remount,size=16m', mountPoint]).status, 0);
    const again = await runCli(['index', photos, '--db', db, '--json']);
    assert.equal(again.code, 0, again.stderr);
    const summary = JSON.parse(again.stdout.split('\n').find((l) => l.startsWith('{'))!);
    assert.equal(summary.photos.indexed, N);
    assert.equal(summary.newlyIndexed, N - indexedBefore);

    const after = Store.open(db);
    try {
      assert.deepEqual(after.db.pragma('integrity_check', { simple: true }), 'ok');
      const indexed = new Set(after.listPhotos({ status: 'indexed' }).map((p) => p.id));
      const thumbs = fs
        .readdirSync(path.join(db, 'thumbs'), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.webp'))
        .map((f) => Number(path.basename(f, '.webp')));
      for (const id of thumbs) assert.ok(indexed.has(id), `thumbnail ${id} belongs to an indexed photo`);
      assert.ok(
        after.listJobs().some((j) => j.status === 'failed' && /is full/.test(j.error ?? '')),
        'the full-disk run stays recorded as failed, with the reason',
      );
    } finally {
      after.close();
    }
  },
);

test(
  'a full disk under likeness serve: the run ends as failed with the reason, the server stays up',
  { skip: serveDisk.skip },
  async (t) => {
    t.after(() => spawnSync('umount', [serveDisk.mountPoint]));
    const photos = tempDir('likeness-faults-photos-');
    for (let i = 0; i < N; i++) await makePhoto(path.join(photos, `p${i}.jpg`), i);
    const s = await startServeChild(path.join(serveDisk.mountPoint, 'db'));
    try {
      const added = await s.api('addFolder', { path: photos });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      const [, state] = await s.child.line(/^done (\w+)/m);
      assert.equal(state, 'failed');
      await s.child.line(/^warning .*is full\. Free some space there/m); // the server's log says why
      const status = await s.api('status');
      assert.equal(status.status, 200, 'the server is up');
      assert.ok((status.body.photos as { indexed: number }).indexed < N);
      assert.doesNotMatch(s.child.stderr(), /SqliteError|Unhandled/);
    } finally {
      await s.stop();
    }
    assert.equal(s.child.proc.signalCode, null, 'it exited on SIGTERM by itself, not by a crash');
  },
);
