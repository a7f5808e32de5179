/**
 * Fault suite, indexing: a real `likeness serve` process (real SQLite, HNSW, thumbnails, trash) with the
 * fake embedder. Removing a folder or trashing photos while they are being indexed: the process survives,
 * nothing comes back, nothing is left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Store } from '../../src-main/engine/store/store';
import { startServeChild } from '../helpers/child-process';
import { makePhoto, tempDir } from '../helpers/images';

const N = 30;

async function photoFolder(): Promise<string> {
  const dir = tempDir('likeness-faults-photos-');
  for (let i = 0; i < N; i++) await makePhoto(path.join(dir, `p${i}.jpg`), i);
  return dir;
}

function thumbFiles(dbDir: string): string[] {
  const root = path.join(dbDir, 'thumbs');
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.webp'));
}

test('removing a folder while it is being indexed: the server survives, no photo or thumbnail remains', async () => {
  const photos = await photoFolder();
  const db = tempDir();
  const s = await startServeChild(db, 80);
  try {
    assert.equal((await s.api('addFolder', { path: photos })).status, 200);
    await s.child.line(/^indexed [3-9]/m);
    const removed = await s.api('removeFolder', { folderId: 1 });
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    // The run ends normally: the removed photos' work is dropped, not failed on a foreign key.
    const [, state] = await s.child.line(/^done (\w+)/m);
    assert.equal(state, 'done', s.child.stdout());
    // Still serving, and the library is empty: no late commit brought a photo back.
    const status = await s.api('status');
    assert.equal(status.status, 200);
    assert.deepEqual((status.body.photos as { total: number }).total, 0);
    assert.equal(((await s.api('listFolders')).body.folders as unknown[]).length, 0);
    assert.deepEqual(thumbFiles(db), [], 'no stray thumbnail');
    assert.doesNotMatch(s.child.stderr(), /FOREIGN KEY|SqliteError|Unhandled/);
  } finally {
    await s.stop();
  }
  assert.equal(s.child.proc.signalCode, null, 'it exited on SIGTERM by itself, not by a crash');
  const store = Store.open(db);
  try {
    assert.equal(store.db.prepare('SELECT COUNT(*) FROM photos').pluck().get(), 0);
    assert.equal(store.db.prepare('SELECT COUNT(*) FROM pooled').pluck().get(), 0);
    assert.equal(store.db.prepare(`SELECT COUNT(*) FROM jobs WHERE status = 'running'`).pluck().get(), 0);
  } finally {
    store.close();
  }
});

test('photos trashed while they are being indexed stay gone: not indexed, not found, not served', async () => {
  const photos = await photoFolder();
  const db = tempDir();
  const trashHome = tempDir('likeness-faults-xdg-');
  const s = await startServeChild(db, 80, { XDG_DATA_HOME: trashHome });
  const ids = Array.from({ length: N }, (_, i) => i + 1);
  try {
    assert.equal((await s.api('addFolder', { path: photos })).status, 200);
    await s.child.line(/^indexed [3-9]/m);
    const trashed = await s.api('trashPhotos', { photoIds: ids });
    assert.equal(trashed.status, 200, JSON.stringify(trashed.body));
    assert.deepEqual(trashed.body.trashed, ids);
    await s.child.line(/^done /m);

    const status = (await s.api('status')).body.photos as Record<string, number>;
    assert.equal(status.indexed, 0, `${status.indexed} trashed photos came back`);
    // trashed photos are forgotten (not kept as "missing"): none is a photo of the library any more
    assert.equal(status.total, 0);
    for (const id of ids) {
      assert.equal(await s.media('full', id), 404, `photo ${id} is not served`);
      assert.equal((await s.api('similar', { photoId: id })).status, 404);
    }
    assert.deepEqual(thumbFiles(db), [], 'no thumbnail outlives a trashed photo');
    assert.equal(fs.readdirSync(photos).length, 0, 'the files are in the trash');
    assert.equal(fs.readdirSync(path.join(trashHome, 'Trash', 'files')).length, N);
  } finally {
    await s.stop();
  }
  const store = Store.open(db);
  try {
    assert.equal(store.counts().indexed, 0);
  } finally {
    store.close();
  }
});
