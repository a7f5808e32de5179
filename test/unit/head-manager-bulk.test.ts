import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussian, makeRng } from '../../src-main/engine/finetune/rng';
import { releaseFastSession, projectBatchFast } from '../../src-main/engine/head/head-session';
import type { HeadWeights, Pooled } from '../../src-main/engine/head/head-types';
import { projectBatch } from '../../src-main/engine/head/project';
import { learnWhiteningHead } from '../../src-main/engine/head/whitening';
import { AnnIndex } from '../../src-main/engine/index/ann-index';
import { HeadManager } from '../../src-main/engine/pipeline/head-manager';
import { blobToFloat32 } from '../../src-main/engine/store/float16';
import { Store } from '../../src-main/engine/store/store';
import { tempDir } from '../helpers/images';
import { addIndexedPhotos } from '../helpers/indexed-photos';

const C = 24;
const MODEL = 'test-model';

test('adopt() re-projects the library through the bulk projector (ONNX Runtime) and matches projectBatch', async () => {
  const dir = tempDir();
  const store = Store.open(dir);
  const index = new AnnIndex(store, dir);
  const rng = makeRng(3);
  const pooled: Pooled[] = [];
  const bulkRows: number[] = [];
  const ops = {
    projectBatch,
    projectBulk: (h: HeadWeights, p: Pooled[]) => {
      bulkRows.push(p.length);
      return projectBatchFast(h, p);
    },
  };
  const manager = new HeadManager(store, index, ops, { modelId: MODEL, channels: C });
  const first = manager.ensure();
  const v = () => Float32Array.from({ length: C }, () => Math.abs(gaussian(rng)));
  const ids = addIndexedPhotos(store, 1500, {
    modelId: MODEL,
    headVersion: first.version,
    pooled: (i) => (pooled[i] = { S: v(), M: v(), G: v() }),
    embedding: (_, p) => projectBatch(first.weights, [p])[0],
  });
  const weights = learnWhiteningHead(pooled, { combo: 'SG', dim: 8 });
  const version = store.insertHead({ modelId: MODEL, kind: 'pca', trainedOn: pooled.length, weights });
  await manager.adopt(version);

  assert.equal(manager.active.version, version);
  assert.equal(
    bulkRows.reduce((a, b) => a + b, 0),
    1500,
    'every photo through the bulk projector, no per-photo fallback',
  );
  assert.ok(bulkRows.length >= 2 && bulkRows.every((n) => n <= 512), 'in chunks that keep each run short');
  // stored float16 pooled vectors, projected by the reference, agree with what adopt() stored
  const id = ids[700];
  const ref = projectBatch(weights, [store.getPooled(id)!.pooled])[0];
  const stored = store.db
    .prepare('SELECT vector FROM embeddings WHERE photo_id = ? AND head_version = ?')
    .pluck()
    .get(id, version) as Buffer;
  const got = blobToFloat32(stored);
  assert.equal(got.length, 16);
  ref.forEach((x, k) => assert.ok(Math.abs(x - got[k]) < 1e-5, `dim ${k}: ${x} vs ${got[k]}`));
  const count = store.db
    .prepare('SELECT COUNT(*) FROM embeddings WHERE head_version = ?')
    .pluck()
    .get(version);
  assert.equal(count, 1500);
  index.close();
  store.close();
  releaseFastSession();
});
