import fs from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AnnIndex,
  type AnnOptions,
  DEFAULT_ANN_OPTIONS,
  efForSize,
  mForSize,
} from '../../src-main/engine/index/ann-index';
import { l2normalize } from '../../src-main/engine/index/vector-math';
import { Store } from '../../src-main/engine/store/store';
import { identityHead } from '../../src-main/engine/head/whitening';
import { tempDir } from '../helpers/images';
import { addIndexedPhotos } from '../helpers/indexed-photos';

const DIM = 24;
/** the beam at 1M with M 32 (recall@10 0.992; docs/bench/query-1m-m32.json) */
const MEASURED_EF_1M = 192;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/** A store with n indexed photos with random unit embeddings under one head version. */
function seed(n: number, dir = tempDir()) {
  const store = Store.open(dir);
  const version = store.insertHead({
    modelId: 'm',
    kind: 'identity',
    trainedOn: 0,
    weights: identityHead(8),
  });
  store.activateHead(version);
  const r = rng(7);
  const vectors: Float32Array[] = [];
  const pooled = { S: new Float32Array(8), M: new Float32Array(8), G: new Float32Array(8) };
  const ids = addIndexedPhotos(store, n, {
    modelId: 'm',
    headVersion: version,
    folder: '/lib',
    pooled: () => pooled,
    embedding: (i) => (vectors[i] = l2normalize(Float32Array.from({ length: DIM }, r))),
  });
  const vecs = new Map(ids.map((id, i) => [id, vectors[i]]));
  return { store, version, vecs, dir };
}

/** A seeded library with its HNSW index built (no exact-search shortcut). */
async function builtIndex(n: number, options: Partial<AnnOptions> = {}) {
  const seeded = seed(n);
  const idx = new AnnIndex(seeded.store, seeded.dir, { exactBelow: 0, ...options });
  idx.open(seeded.version, DIM);
  await idx.whenReady();
  return { ...seeded, idx };
}

test('below exactBelow no graph is kept (exact answers, no file); the first is built when the library reaches it', async () => {
  const { store, version, vecs, dir } = seed(40);
  const [qid, q] = [...vecs][3];
  const idx = new AnnIndex(store, dir, { exactBelow: 50 });
  assert.equal(idx.open(version, DIM), 'missing');
  assert.equal(idx.state, 'ready', 'nothing to build');
  assert.equal(idx.size, 40);
  assert.equal(idx.view().approximate, false);
  assert.equal(idx.search(q, 1)[0].id, qid);
  const r = rng(11);
  const more = (into: AnnIndex, n: number, folder: string) => {
    const added: Float32Array[] = [];
    const ids = addIndexedPhotos(store, n, {
      modelId: 'm',
      headVersion: version,
      folder,
      pooled: () => ({ S: new Float32Array(8), M: new Float32Array(8), G: new Float32Array(8) }),
      embedding: (i) => (added[i] = l2normalize(Float32Array.from({ length: DIM }, r))),
    });
    ids.forEach((id, i) => into.add(id, added[i]));
    return ids;
  };
  const [gone] = more(idx, 9, '/more');
  idx.remove(gone);
  store.forgetPhotos([gone]);
  assert.equal(idx.size, 48);
  assert.equal(idx.state, 'ready');
  idx.close();
  assert.ok(!fs.existsSync(idx.indexFile), 'no graph is saved for a small library');

  const again = new AnnIndex(store, dir, { exactBelow: 50 });
  assert.equal(again.open(version, DIM), 'missing');
  assert.equal(again.size, 48);
  more(again, 2, '/last');
  assert.equal(again.state, 'building', 'reaching exactBelow starts the first graph build');
  await again.whenReady();
  assert.equal(again.size, 50);
  assert.equal(again.view().approximate, true);
  assert.equal(again.search(q, 1)[0].id, qid);
  again.close();
  assert.ok(fs.existsSync(again.indexFile), 'the graph is saved from then on');
});

test('builds, answers like exact search, persists and reloads without rebuilding', async () => {
  const { store, version, vecs, dir } = seed(400);
  const idx = new AnnIndex(store, dir, { exactBelow: 0 });
  assert.equal(idx.open(version, DIM), 'missing');
  assert.equal(idx.state, 'building');
  const [qid, q] = [...vecs][17];
  const exactWhileBuilding = idx.search(q, 5); // exact path: the index is not ready yet
  assert.equal(exactWhileBuilding[0].id, qid);
  assert.ok(Math.abs(exactWhileBuilding[0].score - 1) < 1e-5);
  await idx.whenReady();
  assert.equal(idx.state, 'ready');
  const ann = idx.search(q, 5);
  assert.deepEqual(
    ann.map((h) => h.id),
    exactWhileBuilding.map((h) => h.id),
  );
  assert.ok(fs.existsSync(idx.indexFile) && fs.existsSync(idx.sidecarFile), 'saved after the build');
  idx.close();

  const again = new AnnIndex(store, dir, { exactBelow: 0 });
  assert.equal(again.open(version, DIM), 'loaded');
  assert.equal(again.search(q, 1)[0].id, qid);
  again.close();
  store.close();
});

test('markDelete removes a photo from results; re-adding brings it back; growth resizes', async () => {
  const { store, vecs, idx } = await builtIndex(50);
  const [qid, q] = [...vecs][3];
  idx.remove(qid);
  assert.notEqual(idx.search(q, 3)[0].id, qid);
  idx.add(qid, q);
  assert.equal(idx.search(q, 3)[0].id, qid);
  const r = rng(99);
  for (let i = 0; i < 2000; i++) idx.add(100000 + i, l2normalize(Float32Array.from({ length: DIM }, r))); // beyond the initial 1024
  assert.equal(idx.size, 2050);
  idx.close();
  store.close();
});

test('a saved index behind SQLite (crash before save) is reconciled, not rebuilt', async () => {
  const { store, version, vecs, dir, idx } = await builtIndex(300);
  idx.close();
  // one photo more in SQLite, one photo gone
  const f = store.listFolders()[0];
  const id = store.insertPhoto({ folderId: f.id, path: '/lib/new.jpg', size: 1, mtime: 1, hash: null });
  const v = l2normalize(Float32Array.from({ length: DIM }, rng(5)));
  const pooled = { S: new Float32Array(8), M: new Float32Array(8), G: new Float32Array(8) };
  store.commitIndexed({
    photoId: id,
    pooled,
    modelId: 'm',
    embedding: v,
    headVersion: version,
    width: 1,
    height: 1,
    takenAt: null,
  });
  const [goneId, goneVec] = [...vecs][0];
  store.setStatus(goneId, 'missing');
  const again = new AnnIndex(store, dir, { exactBelow: 0 });
  assert.equal(again.open(version, DIM), 'reconciled');
  assert.equal(again.state, 'ready');
  assert.equal(again.search(v, 1)[0].id, id);
  assert.notEqual(again.search(goneVec, 1)[0].id, goneId);
  again.close();
  store.close();
});

test('a corrupt or truncated index file is detected and rebuilt in the background', async () => {
  const { store, version, vecs, dir, idx } = await builtIndex(200);
  idx.close();
  const buf = fs.readFileSync(idx.indexFile);
  buf.fill(0xff, 100, 4000);
  fs.writeFileSync(idx.indexFile, buf);
  const again = new AnnIndex(store, dir, { exactBelow: 0 });
  assert.equal(again.open(version, DIM), 'corrupt');
  const [qid, q] = [...vecs][42];
  assert.equal(again.search(q, 1)[0].id, qid, 'exact search answers during the rebuild');
  await again.whenReady();
  assert.equal(again.search(q, 1)[0].id, qid);
  again.close();

  fs.truncateSync(idx.indexFile, 10);
  const third = new AnnIndex(store, dir, { exactBelow: 0 });
  assert.equal(third.open(version, DIM), 'corrupt');
  await third.whenReady();
  third.close();
  fs.writeFileSync(idx.sidecarFile, '{not json');
  const fourth = new AnnIndex(store, dir, { exactBelow: 0 });
  assert.equal(fourth.open(version, DIM), 'corrupt');
  await fourth.whenReady();
  fourth.close();
  store.close();
});

test('an index saved for another head version is stale and rebuilt', async () => {
  const { store, version, dir } = seed(60);
  const idx = new AnnIndex(store, dir, { exactBelow: 0 });
  idx.open(version, DIM);
  await idx.whenReady();
  idx.close();
  const v2 = store.insertHead({ modelId: 'm', kind: 'pca', trainedOn: 60, weights: identityHead(8) });
  const again = new AnnIndex(store, dir, { exactBelow: 0 });
  assert.equal(again.open(v2, DIM), 'stale');
  await again.whenReady();
  assert.equal(again.size, 0, 'no embeddings for the new version yet');
  again.close();
  store.close();
});

test('an empty saved index reloads and grows (hnswlib reads it back with capacity 0)', async () => {
  const { store, version, dir } = seed(0);
  const idx = new AnnIndex(store, dir, { exactBelow: 0 });
  idx.open(version, DIM);
  await idx.whenReady();
  idx.close();
  const again = new AnnIndex(store, dir, { exactBelow: 0 });
  assert.equal(again.open(version, DIM), 'loaded');
  const v = l2normalize(Float32Array.from({ length: DIM }, rng(3)));
  again.add(7, v);
  assert.equal(again.search(v, 1)[0].id, 7);
  again.close();
  store.close();
});

test('the search beam grows with the library: efSearch when small, the measured beam at 1M', () => {
  const o = DEFAULT_ANN_OPTIONS;
  for (const n of [0, 3000, 10_000, 100_000, 300_000]) assert.equal(efForSize(o, n), o.efSearch);
  let last = 0;
  for (let n = 1000; n <= 4e6; n = Math.ceil(n * 1.1)) {
    const ef = efForSize(o, n);
    assert.ok(ef >= last && ef >= o.efSearch, `not monotone at ${n}: ${ef} < ${last}`);
    last = ef;
  }
  assert.equal(efForSize(o, 1_000_000), MEASURED_EF_1M);
  assert.equal(efForSize(o, 3_000_000), MEASURED_EF_1M, 'held beyond the largest measured size');
  const mid = efForSize(o, 500_000);
  assert.ok(mid > o.efSearch && mid < MEASURED_EF_1M, `500k: ${mid}`);
  assert.equal(efForSize({ ...o, efSearch: 1000 }, 1_000_000), 1000, 'never below efSearch');
});

test('the graph degree follows the library size at build: M 16 for most libraries, 32 for the largest', () => {
  const o = DEFAULT_ANN_OPTIONS;
  const [[from, large]] = o.mBySize;
  assert.equal(mForSize(o, 0), o.m);
  assert.equal(mForSize(o, 100_000), 16, 'measured: M 16 gives recall@10 1.000 at 100k');
  assert.equal(mForSize(o, from - 1), 16);
  assert.equal(mForSize(o, from), large);
  assert.equal(mForSize(o, 1_000_000), 32, 'measured: M 16 levels off under 0.95 at 1M, M 32 gives 0.99');
  assert.equal(mForSize({ ...o, mBySize: [] }, 1_000_000), o.m);
});

test('the index searches with the beam of its current size, as it grows', async () => {
  // The rule over small sizes, so that a few hundred points cross it.
  const options = {
    efSearch: 16,
    efBySize: [
      [100, 16],
      [1000, 160],
    ] as const,
  };
  const { store, vecs, idx } = await builtIndex(100, options);
  const hnsw = () => idx['hnsw']!; // what hnswlib was given is the point of this test
  const q = [...vecs.values()][0];
  idx.search(q, 5);
  assert.equal(hnsw().getEf(), 16);
  const r = rng(11);
  const grow = (to: number) => {
    for (let i = idx.size; i < to; i++)
      idx.add(100000 + i, l2normalize(Float32Array.from({ length: DIM }, r)));
  };
  grow(316);
  idx.search(q, 5);
  const mid = efForSize(idx.options, 316);
  assert.ok(mid > 16 && mid < 160, `316: ${mid}`);
  assert.equal(hnsw().getEf(), mid);
  grow(1000);
  idx.search(q, 5);
  assert.equal(hnsw().getEf(), 160);
  idx.search(q, 200);
  assert.equal(hnsw().getEf(), 200, 'raised to k');
  idx.close();
  store.close();
});
