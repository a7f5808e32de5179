import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../src-main/engine/store/store';
import { syncFolder } from '../../src-main/engine/scan/sync-folder';
import { walkPhotos } from '../../src-main/engine/scan/walk';
import { contentHash } from '../../src-main/engine/scan/content-hash';
import { makePhoto, tempDir } from '../helpers/images';

test('walk finds photos by extension (any case), skips hidden/system files, survives a symlink loop', async () => {
  const root = tempDir();
  await makePhoto(path.join(root, 'a.jpg'), 1);
  await makePhoto(path.join(root, 'sub', 'B.JPEG'), 2);
  await makePhoto(path.join(root, 'sub', 'deeper', 'c.PnG'), 3);
  fs.writeFileSync(path.join(root, 'notes.txt'), 'hi');
  await makePhoto(path.join(root, '.hidden.jpg'), 4);
  await makePhoto(path.join(root, '.cache', 'd.jpg'), 5);
  await makePhoto(path.join(root, '@eaDir', 'e.jpg'), 6);
  fs.writeFileSync(path.join(root, 'Thumbs.db'), 'x');
  fs.symlinkSync(root, path.join(root, 'sub', 'loop')); // a → itself
  fs.symlinkSync(path.join(root, 'sub'), path.join(root, 'sub-again')); // a second way into sub
  const { files, rejected } = await walkPhotos(root);
  assert.deepEqual(files.map((f) => path.relative(root, f.path)).sort(), [
    'a.jpg',
    'sub/B.JPEG',
    'sub/deeper/c.PnG',
  ]);
  assert.deepEqual(rejected, []);
});

test('content hash depends on content and size, not on name', async () => {
  const root = tempDir();
  await makePhoto(path.join(root, 'a.jpg'), 1, { size: 600 });
  fs.copyFileSync(path.join(root, 'a.jpg'), path.join(root, 'b.jpg'));
  await makePhoto(path.join(root, 'c.jpg'), 2, { size: 600 });
  const h = async (n: string) => contentHash(path.join(root, n), fs.statSync(path.join(root, n)).size);
  assert.equal(await h('a.jpg'), await h('b.jpg'));
  assert.notEqual(await h('a.jpg'), await h('c.jpg'));
});

test('incremental scan: add, unchanged, touch, modify, move, delete, come back', async () => {
  const root = tempDir();
  const store = Store.open(tempDir());
  const folder = store.addFolder(root);
  for (let i = 0; i < 5; i++) await makePhoto(path.join(root, `p${i}.jpg`), i);
  let r = await syncFolder(store, folder);
  assert.equal(r.added.length, 5);
  const idOf = (n: string) => store.photoByPath(path.join(root, n))!.id;
  const p0 = idOf('p0.jpg');
  const p1 = idOf('p1.jpg');
  const p2 = idOf('p2.jpg');
  // pretend p0..p2 were indexed, so we can see which get re-queued
  for (const id of [p0, p1, p2]) store.setStatus(id, 'indexed');

  r = await syncFolder(store, folder);
  assert.equal(r.unchanged, 5);
  assert.equal(r.added.length + r.changed.length + r.moved.length + r.missing.length, 0);

  // touch (mtime only) → same hash → not re-queued
  const t = new Date(Date.now() + 60_000);
  fs.utimesSync(path.join(root, 'p0.jpg'), t, t);
  // modify content → re-queued, same id
  await makePhoto(path.join(root, 'p1.jpg'), 99);
  // move p2 into a subfolder and rename it → same id, still indexed
  fs.mkdirSync(path.join(root, 'moved'));
  fs.renameSync(path.join(root, 'p2.jpg'), path.join(root, 'moved', 'renamed.jpg'));
  // delete p3
  const p3 = idOf('p3.jpg');
  fs.rmSync(path.join(root, 'p3.jpg'));
  r = await syncFolder(store, folder);
  assert.deepEqual(r.changed, [p1]);
  assert.deepEqual(r.moved, [p2]);
  assert.deepEqual(r.missing, [p3]);
  assert.equal(r.added.length, 0);
  assert.equal(store.getPhoto(p0)!.status, 'indexed');
  assert.equal(store.getPhoto(p1)!.status, 'pending');
  assert.equal(store.getPhoto(p2)!.path, path.join(root, 'moved', 'renamed.jpg'));
  assert.equal(store.getPhoto(p2)!.status, 'indexed');
  assert.equal(store.getPhoto(p3)!.status, 'missing');

  // the deleted photo reappears elsewhere later (e.g. restored from the trash under another name)
  await makePhoto(path.join(root, 'back', 'again.jpg'), 3);
  r = await syncFolder(store, folder);
  assert.deepEqual(r.moved, [p3]);
  assert.equal(store.getPhoto(p3)!.path, path.join(root, 'back', 'again.jpg'));
  assert.equal(store.getPhoto(p3)!.status, 'pending', 'it has no vectors yet, so it is queued');
  assert.equal(store.counts().total, 5);
  store.close();
});

test('a move between two library folders keeps the photo id', async () => {
  const a = tempDir();
  const b = tempDir();
  const store = Store.open(tempDir());
  const fa = store.addFolder(a);
  const fb = store.addFolder(b);
  await makePhoto(path.join(a, 'x.jpg'), 11);
  await syncFolder(store, fa);
  const id = store.photoByPath(path.join(a, 'x.jpg'))!.id;
  fs.renameSync(path.join(a, 'x.jpg'), path.join(b, 'x.jpg'));
  const r = await syncFolder(store, fb); // b is scanned first: a has not noticed yet
  assert.deepEqual(r.moved, [id]);
  assert.equal(store.getPhoto(id)!.folderId, fb.id);
  const ra = await syncFolder(store, fa);
  assert.deepEqual(ra.missing, [], 'nothing is missing from a: the photo moved');
  store.close();
});

test('odd names: non-UTF-8 is recorded as failed with the reason, very long names work', async () => {
  const root = tempDir();
  const store = Store.open(tempDir());
  const folder = store.addFolder(root);
  const bad = Buffer.concat([
    Buffer.from(root + '/'),
    Buffer.from([0x66, 0xff, 0xfe, 0x2e, 0x6a, 0x70, 0x67]),
  ]); // "f\xff\xfe.jpg"
  await makePhoto(path.join(root, 'ok.jpg'), 1);
  fs.renameSync(path.join(root, 'ok.jpg'), bad);
  const long = 'ü'.repeat(120) + '.jpg'; // 244 bytes: near the 255-byte limit
  await makePhoto(path.join(root, long), 2);
  const r = await syncFolder(store, folder);
  assert.equal(r.added.length, 1);
  assert.ok(store.photoByPath(path.join(root, long)));
  const failed = store.failedPhotos();
  assert.equal(failed.length, 1);
  assert.match(failed[0].error!, /not valid UTF-8/);
  // rescanning does not duplicate the failed row
  await syncFolder(store, folder);
  assert.equal(store.counts().failed, 1);
  store.close();
});
