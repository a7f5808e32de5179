/**
 * Head learning in its worker thread (the product's path) gives the same head as in process, and the
 * check against the active head comes back with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_HEAD_OPS } from '../../src-main/engine/head/head-ops';
import { identityHead } from '../../src-main/engine/head/whitening';
import { learnHead, type LearnedHead } from '../../src-main/engine/pipeline/head-learning';
import { spawnModuleWorker } from '../../src-main/engine/runtime/module-worker';
import { workerResult } from '../../src-main/engine/runtime/worker-calls';
import { Store } from '../../src-main/engine/store/store';
import { makeRng } from '../../src-main/engine/finetune/rng';
import { tempDir } from '../helpers/images';
import { addIndexedPhotos } from '../helpers/indexed-photos';

const C = 24;

function libraryOf(n: number): string {
  const dir = tempDir();
  const store = Store.open(dir);
  const headVersion = store.insertHead({
    modelId: 'm',
    kind: 'identity',
    trainedOn: 0,
    weights: identityHead(C),
  });
  const rng = makeRng(7);
  const v = () => Float32Array.from({ length: C }, rng);
  addIndexedPhotos(store, n, {
    modelId: 'm',
    headVersion,
    pooled: () => ({ S: v(), M: v(), G: v() }),
    embedding: () => new Float32Array(2 * C),
  });
  store.close();
  return dir;
}

test('a head learned in the worker equals the one learned in process, with its check', async () => {
  const dir = libraryOf(40);
  const request = { modelId: 'm', kind: 'pca' as const, active: identityHead(C) };
  const inWorker = await workerResult<LearnedHead | null>(
    spawnModuleWorker(
      new URL('../../src-main/engine/pipeline/head-manager.ts', import.meta.url).href,
      './head-learn.worker',
      { dbDir: dir, request },
    ),
    'learning the head',
  );
  const store = Store.openReadOnly(dir);
  try {
    const inProcess = await learnHead(store, request, { ...DEFAULT_HEAD_OPS, learnInWorker: false });
    assert.ok(inWorker && inProcess);
    assert.equal(inWorker.sample, 40);
    assert.deepEqual(inWorker.weights, inProcess.weights);
    assert.ok(inWorker.check, 'checked against the active head');
    assert.equal(typeof inWorker.check.adopt, 'boolean');
  } finally {
    store.close();
  }
});

test('a failure in the worker reaches the caller', async () => {
  await assert.rejects(
    workerResult(
      spawnModuleWorker(
        new URL('../../src-main/engine/pipeline/head-manager.ts', import.meta.url).href,
        './head-learn.worker',
        { dbDir: tempDir(), request: { modelId: 'm', kind: 'pca', active: null } },
      ),
      'learning the head',
    ),
    /learning the head (failed|crashed|stopped)/,
  );
});
