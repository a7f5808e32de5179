/**
 * The small guards behind the fault suite, on real files: the write lock, the folder checks, vanished
 * folders, and the Electron folder grants.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FolderGrants, grantedAddFolder } from '../../src-main/electron/folder-grants';
import { projectBatch } from '../../src-main/engine/head/project';
import { Library } from '../../src-main/engine/library';
import { ApiError } from '../../src-main/engine/api/contract';
import {
  FolderNeedsConfirmationError,
  FolderRefusedError,
  checkNewFolder,
  countFilesUpTo,
} from '../../src-main/engine/scan/folder-check';
import { folderAvailable } from '../../src-main/engine/scan/folder-presence';
import { LOCK_FILE, WriteLock } from '../../src-main/engine/store/library-lock';
import { FakeEmbedder } from '../helpers/fake-embedder';
import { makePhoto, tempDir } from '../helpers/images';
import { internals } from '../helpers/library-internals';

test('write lock: exclusive, released, and a garbage lock left by a crash is taken over', () => {
  const dir = tempDir();
  const first = WriteLock.tryAcquire(dir);
  assert.ok(first instanceof WriteLock);
  assert.deepEqual(WriteLock.tryAcquire(dir), { heldBy: process.pid }, 'a second writer is refused');
  assert.equal(WriteLock.holder(dir), process.pid);
  first.release();
  assert.equal(WriteLock.holder(dir), null);
  const again = WriteLock.tryAcquire(dir);
  assert.ok(again instanceof WriteLock);
  again.release();

  // Half-written by a process that died: fresh ones are respected for a moment, old ones taken over.
  const file = path.join(dir, LOCK_FILE);
  fs.writeFileSync(file, '{"pi');
  assert.deepEqual(WriteLock.tryAcquire(dir), { heldBy: 0 });
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(file, old, old);
  const taken = WriteLock.tryAcquire(dir);
  assert.ok(taken instanceof WriteLock);
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).pid, process.pid);
  taken.release();
  assert.ok(!fs.existsSync(file));
});

test('folder checks: real path stored, system folders refused, large folders need confirmation', () => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
  for (let i = 0; i < 12; i++) fs.writeFileSync(path.join(dir, 'a', 'b', `${i}.jpg`), '');
  fs.symlinkSync(path.join(dir, 'a'), path.join(dir, 'link'));
  assert.equal(checkNewFolder(path.join(dir, 'link')), fs.realpathSync(path.join(dir, 'a')));
  assert.equal(countFilesUpTo(dir, 100), 13, '12 files and the link (counted, not followed)');
  assert.equal(countFilesUpTo(dir, 5), 13, 'stops after the directory that passed the limit');
  assert.equal(countFilesUpTo(dir, 0), 1, 'stops at once past the limit');
  assert.throws(() => checkNewFolder('/proc/self'), FolderRefusedError);
  assert.throws(() => checkNewFolder('/sys/kernel'), FolderRefusedError);
  assert.throws(() => checkNewFolder('/'), FolderNeedsConfirmationError);
  assert.throws(() => checkNewFolder(path.join(dir, 'nope')), /no such folder/);
  assert.throws(() => checkNewFolder(path.join(dir, 'a', 'b', '0.jpg')), /not a folder/);
});

test('a folder is unavailable when gone, or empty while the library holds photos from it', () => {
  const dir = tempDir();
  assert.equal(folderAvailable(path.join(dir, 'gone'), 0), false);
  fs.mkdirSync(path.join(dir, 'empty'));
  assert.equal(folderAvailable(path.join(dir, 'empty'), 0), true, 'a new, empty folder is fine');
  assert.equal(folderAvailable(path.join(dir, 'empty'), 3), false, 'an empty mount point is not');
});

test('Electron: addFolder accepts only folders granted by the picker', async () => {
  const grants = new FolderGrants();
  const calls: string[] = [];
  const addFolder = grantedAddFolder(async ({ path: p }) => {
    calls.push(p);
    return { folder: { id: 1, path: p, photoCount: 0, unreadable: 0, available: true } };
  }, grants);
  await assert.rejects(
    addFolder({ path: '/home/you/.ssh' }),
    (e: unknown) => e instanceof ApiError && e.code === 'invalid_argument',
  );
  grants.grant('/home/you/Pictures');
  assert.equal((await addFolder({ path: '/home/you/Pictures/' })).folder.path, '/home/you/Pictures/');
  assert.deepEqual(calls, ['/home/you/Pictures/']);
});

test('indexer: a write that fails outside a photo’s commit ends the run as failed, in words, without hanging', async () => {
  const photos = tempDir();
  for (let i = 0; i < 24; i++) await makePhoto(path.join(photos, `p${i}.jpg`), i);
  const db = tempDir();
  const lib = await Library.open(db, new FakeEmbedder(), {
    headOps: { projectBatch },
    indexer: { batchSize: 2, queueCapacity: 2 },
  });
  try {
    await lib.addFolder(photos);
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    internals(lib).store.updateJob = () => {
      throw full;
    };
    const summary = await lib.startIndexing();
    assert.equal(summary.state, 'failed');
    assert.match(summary.error ?? '', /The disk holding the library \(.*\) is full/);
    assert.equal(internals(lib).store.listJobs()[0].status, 'failed');
    assert.equal(lib.isIndexing, false);
  } finally {
    await lib.close();
  }
});
