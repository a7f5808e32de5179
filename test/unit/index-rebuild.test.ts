import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussian, makeRng } from '../../src-main/engine/finetune/rng';
import type { Pooled } from '../../src-main/engine/head/head-types';
import { projectBatch } from '../../src-main/engine/head/project';
import { learnWhiteningHead } from '../../src-main/engine/head/whitening';
import { AnnIndex } from '../../src-main/engine/index/ann-index';
import { HeadManager } from '../../src-main/engine/pipeline/head-manager';
import { DEFAULT_HEAD_OPS } from '../../src-main/engine/head/head-ops';
import { releaseFastSession } from '../../src-main/engine/head/head-session';
import { Store } from '../../src-main/engine/store/store';
import { tempDir } from '../helpers/images';

const C = 24;
const MODEL = 'test-model';
const N = 3000;

/** A library of N indexed photos under the initial head, its graph built, and a PCA head to switch to. */
async function library() {
  const dir = tempDir();
  const store = Store.open(dir);
  const index = new AnnIndex(store, dir, { exactBelow: 0 });
  const heads = new HeadManager(store, index, { projectBatch }, { modelId: MODEL, channels: C });
  const first = heads.ensure();
  const rng = makeRng(11);
  const folder = store.addFolder('/photos');
  const pooled: Pooled[] = [];
  const commit = (i: number) => {
    const v = () => Float32Array.from({ length: C }, () => Math.abs(gaussian(rng)));
    const p = { S: v(), M: v(), G: v() };
    pooled.push(p);
    const photoId = store.insertPhoto({
      folderId: folder.id,
      path: `/photos/${i}.jpg`,
      size: 1,
      mtime: 1,
      hash: null,
    });
    const [embedding] = projectBatch(heads.active.weights, [p]);
    store.commitIndexed({
      photoId,
      pooled: p,
      modelId: MODEL,
      embedding,
      headVersion: heads.active.version,
      width: 1,
      height: 1,
      takenAt: null,
    });
    return { photoId, embedding };
  };
  store.transaction(() => {
    for (let i = 0; i < N; i++) commit(i);
  });
  index.open(first.version, heads.dim);
  await index.whenReady();
  const weights = learnWhiteningHead(pooled, { combo: 'SG', dim: 8 });
  const next = store.insertHead({ modelId: MODEL, kind: 'pca', trainedOn: N, weights });
  return { dir, store, index, heads, first, next, commit };
}

/** Counts exact scans on the engine's own connection (the build worker has its own). */
function countScans(store: Store): () => number {
  let scans = 0;
  const orig = store.embeddingChunk.bind(store);
  store.embeddingChunk = (...args) => {
    scans++;
    return orig(...args);
  };
  return () => scans;
}

test('while a head switch builds its graph in the worker, queries get HNSW answers on the old head', async () => {
  const lib = await library();
  const scans = countScans(lib.store);
  const query = lib.store.getEmbedding(5, lib.first.version)!;
  const seen: { active: number; view: number; approximate: boolean; top: number; topScore: number }[] = [];
  lib.index.onBuildProgress = () => {
    const view = lib.index.view();
    const [hit] = view.search(query, 5);
    seen.push({
      active: lib.heads.active.version,
      view: view.headVersion,
      approximate: view.approximate,
      top: hit.id,
      topScore: hit.score,
    });
  };
  const adopted = await lib.heads.adopt(lib.next);
  assert.ok(seen.length >= 2, `the query ran during the build (${seen.length} progress events)`);
  for (const s of seen) {
    assert.equal(s.active, lib.first.version, 'the old head stays active during the build');
    assert.equal(s.view, lib.first.version, 'and the graph answering is the old head’s');
    assert.equal(s.approximate, true, 'answered by the HNSW graph, not an exact scan');
    assert.equal(s.top, 5);
    assert.ok(Math.abs(s.topScore - 1) < 1e-3);
  }
  assert.equal(scans(), 0, 'no exact scan over SQLite on the engine thread');
  // switched together: the new head, its graph, and answers in its space
  assert.equal(adopted.version, lib.next);
  assert.equal(lib.index.headVersion, lib.next);
  assert.equal(lib.index.state, 'ready');
  const q2 = lib.store.getEmbedding(5, lib.next)!;
  assert.equal(q2.length, 16);
  const [hit] = lib.index.search(q2, 1);
  assert.equal(hit.id, 5);
  assert.equal(lib.store.getEmbedding(5, lib.first.version), undefined, 'old embeddings are gone');
  lib.index.close();
  lib.store.close();
});

test('photos committed and removed during the build are in the new graph (replayed at the switch)', async () => {
  const lib = await library();
  let added: number | undefined;
  const removed = 7;
  lib.index.onBuildProgress = () => {
    if (added !== undefined) return;
    const { photoId, embedding } = lib.commit(N);
    added = photoId;
    lib.index.add(photoId, embedding); // as the indexer does, with the old head
    lib.store.setStatus(removed, 'missing');
    lib.index.remove(removed);
  };
  await lib.heads.adopt(lib.next);
  assert.ok(added !== undefined);
  const v = lib.store.getEmbedding(added, lib.next);
  assert.ok(v, 'the late photo was projected with the new head at the switch');
  assert.equal(lib.index.search(v, 1)[0].id, added);
  const gone = projectBatch(lib.heads.active.weights, [lib.store.getPooled(removed)!.pooled])[0];
  assert.ok(!lib.index.search(gone, 10).some((h) => h.id === removed), 'the removed photo stays out');
  lib.index.close();
  lib.store.close();
});

test('a build worker that crashes leaves the old head and graph answering; the next switch works', async () => {
  const lib = await library();
  lib.index.onBuildProgress = () => {
    void lib.index.buildInFlight?.kill();
  };
  await assert.rejects(lib.heads.adopt(lib.next), /index build worker stopped/);
  assert.equal(lib.heads.active.version, lib.first.version);
  const view = lib.index.view();
  assert.equal(view.headVersion, lib.first.version);
  assert.equal(view.approximate, true);
  const q = lib.store.getEmbedding(9, lib.first.version)!;
  assert.equal(view.search(q, 1)[0].id, 9);
  lib.index.onBuildProgress = null;
  await lib.heads.adopt(lib.next);
  assert.equal(lib.heads.active.version, lib.next);
  assert.equal(lib.index.headVersion, lib.next);
  lib.index.close();
  lib.store.close();
});

test('with the default head ops, the worker re-projects the library and the old embeddings are dropped after the switch', async () => {
  const lib = await library();
  const heads = new HeadManager(
    lib.store,
    lib.index,
    { ...DEFAULT_HEAD_OPS, projectBulk: () => Promise.reject(new Error('not on this thread')) },
    { modelId: MODEL, channels: C },
  );
  const phases = new Set<string>();
  lib.index.onBuildProgress = (p) => phases.add(p.phase);
  await heads.adopt(lib.next);
  assert.deepEqual([...phases].sort(), ['build', 'reproject']);
  assert.equal(heads.active.version, lib.next);
  const weights = lib.store.getHead(lib.next)!.weights;
  for (const id of [1, 1500, N]) {
    const want = projectBatch(weights, [lib.store.getPooled(id)!.pooled])[0];
    const got = lib.store.getEmbedding(id, lib.next)!;
    want.forEach((x, k) => assert.ok(Math.abs(x - got[k]) < 1e-5, `photo ${id} dim ${k}`));
  }
  await heads.whenSettled();
  assert.deepEqual(lib.store.embeddingVersions(), [lib.next], 'the old head’s embeddings were dropped');
  // and back: the old head is re-projected anew
  await heads.adopt(lib.first.version);
  await heads.whenSettled();
  assert.deepEqual(lib.store.embeddingVersions(), [lib.first.version]);
  assert.equal(lib.index.search(lib.store.getEmbedding(42, lib.first.version)!, 1)[0].id, 42);
  releaseFastSession();
  lib.index.close();
  lib.store.close();
});
