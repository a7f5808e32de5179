import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Library } from '../../src-main/engine/library';
import type { IndexProgress } from '../../src-main/engine/pipeline/indexer';
import { projectBatch } from '../../src-main/engine/head/project';
import { identityHead } from '../../src-main/engine/head/whitening';
import { FakeEmbedder } from '../helpers/fake-embedder';
import { makePhoto, tempDir } from '../helpers/images';
import { internals } from '../helpers/library-internals';

const headOps = { projectBatch };

test('index a folder, query it, follow changes on disk without re-embedding unchanged photos', async () => {
  const root = tempDir();
  for (let i = 0; i < 12; i++) await makePhoto(path.join(root, i < 6 ? 'a' : 'b', `p${i}.jpg`), i);
  fs.copyFileSync(path.join(root, 'a', 'p3.jpg'), path.join(root, 'b', 'copy-of-p3.jpg'));
  const emb = new FakeEmbedder();
  const lib = await Library.open(tempDir(), emb, { headOps });
  const { folder, scan } = await lib.addFolder(root);
  assert.equal(scan.added.length, 13);
  const progress: IndexProgress[] = [];
  lib.on('progress', (p) => progress.push(p));
  const summary = await lib.startIndexing();
  assert.equal(summary.state, 'done');
  assert.equal(summary.done, 13);
  assert.equal(emb.embedded, 13);
  assert.deepEqual(lib.status().photos, { total: 13, indexed: 13, pending: 0, failed: 0, missing: 0 });
  assert.equal(progress.at(-1)!.done, 13);
  assert.equal(progress.at(-1)!.total, 13);
  assert.ok(progress.some((p) => p.current?.endsWith('.jpg')));
  const p3 = lib.photoByPath(path.join(root, 'a', 'p3.jpg'))!;
  assert.ok(fs.existsSync(lib.thumbnailPath(p3.id)), 'thumbnail cached on disk');
  assert.equal(p3.width, 64);

  // similar: the byte-identical copy first, with cosine 1; the photo itself excluded
  const hits = lib.similar(p3.id, { k: 5 });
  assert.equal(hits.length, 5);
  assert.equal(hits[0].photo.path, path.join(root, 'b', 'copy-of-p3.jpg'));
  assert.ok(Math.abs(hits[0].score - 1) < 1e-4);
  assert.ok(!hits.some((h) => h.photo.id === p3.id));
  for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1].score >= hits[i].score);
  // folder filter
  const onlyA = lib.similar(p3.id, { k: 20, folderId: folder.id });
  assert.equal(onlyA.length, 12);
  // query expansion keeps the exact copy on top and scores against the original query
  const qe = lib.similar(p3.id, { k: 3, expand: true });
  assert.equal(qe[0].photo.path, path.join(root, 'b', 'copy-of-p3.jpg'));
  assert.ok(Math.abs(qe[0].score - 1) < 1e-4);

  // an outside image: same picture re-encoded as PNG
  const outside = path.join(tempDir(), 'query.png');
  await makePhoto(outside, 7, { format: 'png' });
  const byImage = await lib.searchByImage(outside, { k: 3 });
  assert.equal(byImage[0].photo.path, path.join(root, 'b', 'p7.jpg'));
  assert.ok(byImage[0].score > 0.99);
  const byBytes = await lib.searchByImage(fs.readFileSync(outside), { k: 1 });
  assert.equal(byBytes[0].photo.id, byImage[0].photo.id);

  // a region: the whole image as a "region" finds the photo itself
  const whole = await lib.searchByRegion(p3.id, { x: 0, y: 0, w: 1, h: 1 }, { k: 2 });
  assert.ok([p3.id, hits[0].photo.id].includes(whole[0].photo.id));
  await assert.rejects(lib.searchByRegion(p3.id, { x: 0.5, y: 0, w: 0.8, h: 1 }), /inside the image/);

  // duplicates: the copy pair, one of them proposed for removal
  const dups = (await lib.duplicates(0.999)).filter((g) => g.kind === 'copies');
  assert.equal(dups.length, 1);
  assert.deepEqual(dups[0].photos.map((h) => h.photo.id).sort(), [p3.id, hits[0].photo.id].sort());
  assert.equal(dups[0].photos.filter((h) => h.copyOf !== null).length, 1);

  // albums survive a move
  const album = lib.createAlbum('Favourites');
  lib.addToAlbum(album.id, [p3.id]);

  // changes on disk: add, modify, delete, move
  await makePhoto(path.join(root, 'a', 'new.jpg'), 50);
  await makePhoto(path.join(root, 'a', 'p1.jpg'), 51);
  fs.rmSync(path.join(root, 'b', 'p8.jpg'));
  fs.renameSync(path.join(root, 'a', 'p3.jpg'), path.join(root, 'b', 'moved-p3.jpg'));
  const p8 = lib.photoByPath(path.join(root, 'b', 'p8.jpg'))!;
  const embeddedBeforeRescan = emb.embedded;
  const [r] = await lib.rescan();
  assert.equal(r.added.length, 1);
  assert.equal(r.changed.length, 1);
  assert.deepEqual(r.missing, [p8.id]);
  assert.deepEqual(r.moved, [p3.id]);
  const again = await lib.startIndexing();
  assert.equal(again.done, 2, 'only the new and the modified photo are embedded');
  assert.equal(emb.embedded - embeddedBeforeRescan, 2);
  assert.deepEqual(lib.albumPhotoIds(album.id), [p3.id], 'the moved photo keeps its album');
  assert.equal(lib.getPhoto(p3.id)!.path, path.join(root, 'b', 'moved-p3.jpg'));
  assert.ok(
    !lib.similar(p3.id, { k: 50 }).some((h) => h.photo.id === p8.id),
    'a deleted photo is not returned',
  );
  assert.equal(lib.similar(p3.id, { k: 1 })[0].photo.path, path.join(root, 'b', 'copy-of-p3.jpg'));

  // removing the folder forgets everything
  assert.ok(lib.removeFolder(folder.id));
  assert.equal(lib.status().photos.total, 0);
  await lib.close();
});

test('pause, resume and cancel; a cancelled run resumes without redoing finished photos', async () => {
  const root = tempDir();
  for (let i = 0; i < 30; i++) await makePhoto(path.join(root, `p${i}.png`), i);
  const emb = new FakeEmbedder({ delayMs: 20 });
  const lib = await Library.open(tempDir(), emb, { headOps, indexer: { batchSize: 2 } });
  await lib.addFolder(root);
  let paused = false;
  let sawPausedState = false;
  const off = lib.on('progress', (p) => {
    if (p.state === 'paused') sawPausedState = true;
    if (!paused && p.done >= 4) {
      paused = true;
      assert.ok(lib.pause());
      setTimeout(() => {
        const before = lib.status().photos.indexed;
        setTimeout(() => {
          // nothing new is embedded while paused (in-flight batch may finish)
          assert.ok(lib.status().photos.indexed <= before + 2);
          assert.ok(lib.resume());
        }, 100);
      }, 50);
    }
    if (p.done >= 14) lib.cancel();
  });
  const first = await lib.startIndexing();
  off();
  assert.ok(sawPausedState);
  assert.equal(first.state, 'cancelled');
  const indexedAfterCancel = lib.status().photos.indexed;
  assert.ok(indexedAfterCancel >= 14 && indexedAfterCancel < 30, String(indexedAfterCancel));
  const embeddedBefore = emb.embedded;
  const second = await lib.startIndexing();
  assert.equal(second.state, 'done');
  assert.equal(second.done, 30 - indexedAfterCancel);
  assert.equal(lib.status().photos.indexed, 30);
  assert.ok(
    emb.embedded - embeddedBefore <= 30 - indexedAfterCancel + 2,
    'finished photos are not embedded again',
  );
  await lib.close();
});

test('head policy: from 200 photos a whitening head is learned after the run, the library re-projected, the index rebuilt', async () => {
  const root = tempDir();
  for (let i = 0; i < 230; i++) await makePhoto(path.join(root, `p${i}.jpg`), i, { size: 16 });
  const emb = new FakeEmbedder();
  let learnedOn = 0;
  const lib = await Library.open(tempDir(), emb, {
    headOps: {
      projectBatch,
      learnWhiteningHead: (pooled) => {
        learnedOn = pooled.length;
        return identityHead(48, 'SG', 16);
      },
    },
    indexer: { batchSize: 16 },
  });
  await lib.addFolder(root);
  assert.equal(lib.status().head.kind, 'identity');
  assert.equal(lib.status().head.dim, 2 * 48);
  const heads: number[] = [];
  lib.on('head', (h) => heads.push(h.version));
  await lib.startIndexing();
  let announced = 0;
  lib.on('indexReady', () => announced++);
  // The run ends when every photo is searchable; the whitening head it asked for is learned after it.
  assert.equal(lib.status().photos.indexed, 230);
  assert.equal(lib.status().head.kind, 'identity');
  assert.equal(lib.status().index.ready, false, 'the whitening head is being learned');
  const first = lib.photoByPath(path.join(root, 'p5.jpg'))!;
  assert.equal(lib.similar(first.id, { k: 3 }).length, 3, 'answered meanwhile');
  await lib.whenIndexReady();
  assert.equal(lib.status().index.ready, true);
  assert.equal(announced, 1, 'the index becoming ready is announced once');
  const st = lib.status();
  assert.equal(st.head.kind, 'pca');
  assert.equal(st.head.dim, 32);
  const kinds = lib.listHeads().map((h) => h.kind);
  assert.deepEqual(kinds, ['identity', 'identity', 'pca'], 'start, centred mid-run, whitened at the end');
  assert.ok(lib.listHeads()[1].trainedOn >= 8, 'the identity head was centred on the library mid-run');
  assert.equal(heads.length, kinds.length - 1, 'every learned head was announced');
  assert.equal(learnedOn, 230, 'learned once, on the whole library');
  // every photo has an embedding of the new version, none of the old
  const n = internals(lib)
    .store.db.prepare('SELECT COUNT(*) FROM embeddings WHERE head_version = ?')
    .pluck()
    .get(st.head.version);
  assert.equal(n, 230);
  assert.equal(internals(lib).store.db.prepare('SELECT COUNT(*) FROM embeddings').pluck().get(), 230);
  const p = lib.photoByPath(path.join(root, 'p5.jpg'))!;
  assert.equal(lib.similar(p.id, { k: 3 }).length, 3);
  // going back to the first head works too
  await lib.useHead(lib.listHeads()[0].version);
  assert.equal(lib.status().head.kind, 'identity');
  assert.equal(lib.similar(p.id, { k: 3 }).length, 3);
  await lib.close();
});

test('closing the app gives up a head still being learned, quietly: the head in use stays, the next run learns it', async () => {
  const root = tempDir();
  for (let i = 0; i < 210; i++) await makePhoto(path.join(root, `p${i}.jpg`), i, { size: 16 });
  const db = tempDir();
  // The check of the whitening head (after the run) waits until the app is closing.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const ops = {
    projectBatch,
    learnWhiteningHead: () => identityHead(48, 'SG', 16),
    compareHeads: async () => {
      await gate;
      return { adopt: true, candidate: 1, active: 0 };
    },
  };
  const lib = await Library.open(db, new FakeEmbedder(), { headOps: ops, watch: true });
  await lib.addFolder(root);
  await lib.startIndexing();
  assert.equal(lib.status().index.ready, false, 'the whitening head is being learned');
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  const closing = lib.close();
  release();
  await closing;
  await new Promise((r) => setImmediate(r)); // process warnings are emitted on the next tick
  process.off('warning', onWarning);
  assert.deepEqual(
    warnings.filter((w) => /head|index/.test(w)),
    [],
  );

  const again = await Library.open(db, new FakeEmbedder(), { headOps: { ...ops, compareHeads: undefined } });
  const st = again.status();
  assert.equal(st.head.kind, 'identity', 'the head in use stayed');
  assert.equal(
    internals(again)
      .store.db.prepare('SELECT COUNT(*) FROM embeddings WHERE head_version = ?')
      .pluck()
      .get(st.head.version),
    210,
  );
  const p = again.photoByPath(path.join(root, 'p5.jpg'))!;
  assert.equal(again.similar(p.id, { k: 3 }).length, 3);
  await again.startIndexing(); // nothing pending: the run learns the head the last one left
  await again.whenIndexReady();
  assert.equal(again.status().head.kind, 'pca');
  await again.close();
});

test('the folder watcher notices new files and indexes them', async () => {
  const root = tempDir();
  await makePhoto(path.join(root, 'first.jpg'), 1);
  const lib = await Library.open(tempDir(), new FakeEmbedder(), {
    headOps,
    watch: true,
    watchDebounceMs: 150,
  });
  await lib.addFolder(root);
  await lib.startIndexing();
  const indexed = new Promise<void>((resolve) =>
    lib.on('photo', (e) => {
      if (e.path.endsWith('second.jpg') && e.status === 'indexed') resolve();
    }),
  );
  await makePhoto(path.join(root, 'sub', 'second.jpg'), 2);
  await indexed;
  assert.equal(lib.status().photos.indexed, 2);
  await lib.close();
});

test('nested folders: adding a parent absorbs the child, adding a child of a folder is a no-op', async () => {
  const root = tempDir();
  await makePhoto(path.join(root, 'kids', 'k.jpg'), 1);
  await makePhoto(path.join(root, 'top.jpg'), 2);
  const lib = await Library.open(tempDir(), new FakeEmbedder(), { headOps });
  const child = await lib.addFolder(path.join(root, 'kids'));
  const kid = lib.photoByPath(path.join(root, 'kids', 'k.jpg'))!;
  const parent = await lib.addFolder(root);
  assert.notEqual(parent.folder.id, child.folder.id);
  assert.deepEqual(
    lib.listFolders().map((f) => [f.path, f.photoCount]),
    [[fs.realpathSync(root), 2]],
  );
  assert.equal(lib.photoByPath(path.join(root, 'kids', 'k.jpg'))!.id, kid.id, 'the photo keeps its id');
  const again = await lib.addFolder(path.join(root, 'kids'));
  assert.equal(again.folder.id, parent.folder.id);
  assert.equal(lib.status().photos.total, 2);
  await assert.rejects(lib.addFolder(path.join(root, 'nope')), /no such folder/);
  await lib.close();
});
