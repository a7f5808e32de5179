import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../src-main/engine/store/store';
import { DatabaseFolderError, openDatabase } from '../../src-main/engine/store/open-database';
import { MIGRATIONS } from '../../src-main/engine/store/migrations/index';
import { decodeFloat16, encodeFloat16, fromHalf, toHalf } from '../../src-main/engine/store/float16';
import { identityHead } from '../../src-main/engine/head/whitening';
import { tempDir } from '../helpers/images';

const vec = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));

test('migrations create the schema once and track user_version', () => {
  const dir = tempDir();
  const db = openDatabase(dir);
  assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  const tables = db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
    .pluck()
    .all();
  for (const t of ['album_photos', 'albums', 'embeddings', 'folders', 'heads', 'jobs', 'photos', 'pooled'])
    assert.ok(tables.includes(t), t);
  db.close();
  const again = openDatabase(dir); // must not re-run 001 (it would fail on CREATE TABLE)
  assert.equal(again.pragma('user_version', { simple: true }), MIGRATIONS.length);
  again.close();
});

test('a database newer than the app is refused with a clear message', () => {
  const dir = tempDir();
  const db = openDatabase(dir);
  db.pragma(`user_version = ${MIGRATIONS.length + 5}`);
  db.close();
  assert.throws(() => openDatabase(dir), /newer than this app/);
});

test('a database folder that cannot be created is a clear DatabaseFolderError', () => {
  const dir = tempDir();
  const file = path.join(dir, 'a-file');
  fs.writeFileSync(file, 'x');
  assert.throws(
    () => openDatabase(path.join(file, 'db')),
    (e: Error) => e instanceof DatabaseFolderError && e.message.includes(file),
  );
});

test('float16 round-trips within half precision and handles specials', () => {
  const xs = vec(2000, (i) => (i - 1000) * 0.0137 + Math.sin(i) * 3);
  const back = decodeFloat16(encodeFloat16(xs));
  for (let i = 0; i < xs.length; i++) {
    const tol = Math.max(Math.abs(xs[i]) * 2 ** -11, 2 ** -24);
    assert.ok(Math.abs(back[i] - xs[i]) <= tol, `${xs[i]} → ${back[i]}`);
  }
  assert.equal(fromHalf(toHalf(0)), 0);
  assert.equal(fromHalf(toHalf(1)), 1);
  assert.equal(fromHalf(toHalf(65504)), 65504);
  assert.equal(fromHalf(toHalf(1e6)), Infinity);
  assert.equal(fromHalf(toHalf(-1e6)), -Infinity);
  assert.ok(Number.isNaN(fromHalf(toHalf(NaN))));
  assert.equal(fromHalf(toHalf(1e-9)), 0);
  assert.ok(Math.abs(fromHalf(toHalf(3e-6)) - 3e-6) < 2 ** -24); // subnormal
});

test('photos, pooled vectors, embeddings, heads, albums and jobs round-trip', () => {
  const store = Store.open(tempDir());
  const folder = store.addFolder('/photos');
  assert.equal(store.addFolder('/photos').id, folder.id, 'adding twice is idempotent');
  const id = store.insertPhoto({
    folderId: folder.id,
    path: '/photos/a.jpg',
    size: 10,
    mtime: 5,
    hash: 'h1',
  });
  assert.deepEqual(store.pendingIds(10), [id]);
  assert.deepEqual(store.counts(), { total: 1, indexed: 0, pending: 1, failed: 0, missing: 0 });

  const head = identityHead(48, 'SMG');
  const version = store.insertHead({ modelId: 'm', kind: 'identity', trainedOn: 0, weights: head });
  store.activateHead(version);
  const h = store.activeHead('m')!;
  assert.equal(h.version, version);
  assert.deepEqual(h.weights.branches[1].weight, head.branches[1].weight);
  assert.equal(h.weights.combo, 'SMG');

  const pooled = { S: vec(48, (i) => i / 10), M: vec(48, (i) => -i / 7), G: vec(48, (i) => Math.sqrt(i)) };
  const emb = vec(144, (i) => i / 144);
  store.commitIndexed({
    photoId: id,
    pooled,
    modelId: 'm',
    embedding: emb,
    headVersion: version,
    width: 640,
    height: 480,
    takenAt: 1234,
  });
  const got = store.getPooled(id)!;
  assert.equal(got.modelId, 'm');
  for (let i = 0; i < 48; i++) assert.ok(Math.abs(got.pooled.G[i] - pooled.G[i]) < 1e-2);
  assert.deepEqual(store.getEmbedding(id, version), emb);
  const p = store.getPhoto(id)!;
  assert.equal(p.status, 'indexed');
  assert.equal(p.width, 640);
  assert.equal(p.takenAt, 1234);
  assert.deepEqual(store.embeddingFingerprint(version), { count: 1, idSum: id });
  // committing twice (a resumed run) does not duplicate
  store.commitIndexed({
    photoId: id,
    pooled,
    modelId: 'm',
    embedding: emb,
    headVersion: version,
    width: 640,
    height: 480,
    takenAt: 1234,
  });
  assert.equal(store.db.prepare('SELECT COUNT(*) FROM embeddings').pluck().get(), 1);

  const album = store.createAlbum('Cats');
  assert.equal(store.addToAlbum(album, [id, id]), 1);
  assert.deepEqual(store.albumPhotoIds(album), [id]);
  assert.equal(store.listAlbums()[0].count, 1);
  assert.ok(store.renameAlbum(album, 'Dogs'));
  assert.equal(store.listAlbums()[0].name, 'Dogs');

  const job = store.startJob('index');
  store.updateJob(job, { done: 3 });
  assert.equal(store.markInterruptedJobs(), 1);
  assert.equal(store.listJobs()[0].status, 'interrupted');
  assert.deepEqual(store.listJobs()[0].progress, { done: 3 });

  // changed content drops vectors and re-queues; removing the folder cascades everything
  store.replacePhotoContent(id, 11, 6, 'h2');
  assert.equal(store.getPooled(id), undefined);
  assert.equal(store.getPhoto(id)!.status, 'pending');
  assert.deepEqual(store.removeFolder(folder.id), [id]);
  assert.equal(store.getPhoto(id), undefined);
  assert.deepEqual(store.albumPhotoIds(album), []);
  store.close();
});

test('activating a head drops the other versions’ embeddings, photos of another model are requeued', () => {
  const store = Store.open(tempDir());
  const f = store.addFolder('/p');
  const id = store.insertPhoto({ folderId: f.id, path: '/p/a.jpg', size: 1, mtime: 1, hash: null });
  const v1 = store.insertHead({ modelId: 'old', kind: 'identity', trainedOn: 0, weights: identityHead(4) });
  const v2 = store.insertHead({ modelId: 'old', kind: 'pca', trainedOn: 1, weights: identityHead(4) });
  store.activateHead(v1);
  const pooled = { S: vec(4, () => 1), M: vec(4, () => 1), G: vec(4, () => 1) };
  store.commitIndexed({
    photoId: id,
    pooled,
    modelId: 'old',
    embedding: vec(12, () => 0.1),
    headVersion: v1,
    width: 1,
    height: 1,
    takenAt: null,
  });
  store.putEmbeddings(v2, [id], [vec(12, () => 0.2)]);
  store.activateHead(v2);
  assert.equal(store.getEmbedding(id, v1), undefined);
  assert.ok(store.getEmbedding(id, v2));
  assert.equal(store.activeHead()!.version, v2);
  assert.equal(store.requeueOtherModels('new'), 1);
  assert.equal(store.getPhoto(id)!.status, 'pending');
  store.close();
});

test('status counts kept by triggers agree with the photos through inserts, status changes and deletes', () => {
  const store = Store.open(tempDir());
  const counted = () => {
    const truth = { total: 0, indexed: 0, pending: 0, failed: 0, missing: 0 };
    for (const r of store.db.prepare('SELECT status, COUNT(*) AS n FROM photos GROUP BY status').all() as {
      status: keyof typeof truth;
      n: number;
    }[])
      truth[r.status] = r.n;
    truth.total = truth.indexed + truth.pending;
    assert.deepEqual(store.counts(), truth);
    return truth;
  };
  const a = store.addFolder('/a');
  const b = store.addFolder('/b');
  const ids = [a, a, a, b, b].map((f, i) =>
    store.insertPhoto({ folderId: f.id, path: `${f.path}/${i}.jpg`, size: 1, mtime: 1, hash: `h${i}` }),
  );
  assert.equal(counted().pending, 5);
  store.setStatus(ids[0], 'failed', 'Cannot decode');
  store.setStatus(ids[1], 'missing');
  store.setStatus(ids[1], 'missing'); // no change: counted once
  store.setStatus(ids[3], 'failed');
  assert.deepEqual(counted(), { total: 2, indexed: 0, pending: 2, failed: 2, missing: 1 });
  store.forgetPhotos([ids[2]]);
  counted();
  store.removeFolder(b.id); // its photos go by the foreign key's cascade
  assert.deepEqual(counted(), { total: 0, indexed: 0, pending: 0, failed: 1, missing: 1 });
  store.close();
});
