/** Fine-tune trainer: guard rails, adoption rule, ablation switches, and the untouched input head. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FinetuneInputError, trainHead } from '../../src-main/engine/finetune/trainer';
import { makeRng, shuffleInPlace } from '../../src-main/engine/finetune/rng';
import { projectBatch } from '../../src-main/engine/head/project';
import { learnWhiteningHead } from '../../src-main/engine/head/whitening';
import type { HeadWeights } from '../../src-main/engine/head/head-types';
import { syntheticPooled } from './finetune-fixtures';

const { pooled, labels } = syntheticPooled(16, 16, 32);
const initHead = learnWhiteningHead(pooled, { combo: 'SG', dim: 16 });

function snapshot(h: HeadWeights): number[][] {
  return h.branches.flatMap((b) => [Array.from(b.weight), Array.from(b.mean)]);
}

test('real album labels: held-out Recall@1 improves and the head is adopted', async () => {
  const before = snapshot(initHead);
  const epochs: number[] = [];
  const res = await trainHead({
    pooled,
    labels,
    initHead,
    options: { maxEpochs: 15 },
    onEpoch: (e) => epochs.push(e.epoch),
  });
  assert.equal(res.adopted, true, res.reason);
  assert.ok(res.metrics.after.r1 > res.metrics.before.r1, res.reason);
  assert.ok(res.metrics.after.mAP > res.metrics.before.mAP + 0.05, res.reason);
  assert.match(res.reason, /^Adopted/);
  assert.deepEqual(
    epochs,
    [0, ...res.metrics.epochs.map((e) => e.epoch)],
    'epoch 0 (the starting head) is reported, then every trained epoch',
  );
  assert.deepEqual(snapshot(initHead), before, 'the input head must not change');
  // the returned head is servable: projectBatch reproduces the trainer's own held-out figures' space
  const out = projectBatch(res.head, pooled.slice(0, 3));
  assert.equal(out[0].length, 32);
  assert.ok(Math.abs(out[0].reduce((a, v) => a + v * v, 0) - 1) < 1e-4);
});

test('shuffled labels: the run is not adopted, and the reason says why', async () => {
  for (const seed of [1, 2]) {
    const shuffled = shuffleInPlace([...labels], makeRng(seed));
    const res = await trainHead({ pooled, labels: shuffled, initHead, options: { seed } });
    assert.equal(res.adopted, false, `seed ${seed}: ${res.reason}`);
    assert.match(res.reason, /^Not adopted: /);
  }
});

test('guard: fewer than 2 albums with 4 photos each is a clear error', async () => {
  const few = pooled.slice(0, 7);
  await assert.rejects(
    trainHead({ pooled: few, labels: [0, 0, 0, 0, 1, 1, 1], initHead }),
    (e: Error) =>
      e instanceof FinetuneInputError && /at least 2 albums with at least 4 photos/.test(e.message),
  );
  await assert.rejects(trainHead({ pooled: few, labels: [0, 0], initHead }), /7 pooled vectors but 2 labels/);
});

test('cancel via AbortSignal stops the run with an AbortError', async () => {
  const ac = new AbortController();
  let seen = 0;
  await assert.rejects(
    trainHead({
      pooled,
      labels,
      initHead,
      signal: ac.signal,
      onEpoch: () => {
        if (++seen === 2) ac.abort();
      },
    }),
    (e: Error) => e.name === 'AbortError',
  );
  assert.equal(seen, 2);
});

test('ablation switches all train and report metrics', async () => {
  const variants = [
    { classification: false },
    { smoothing: 0 },
    { temperature: 1 },
    { arch: 'A' as const },
    { arch: 'B' as const },
    { combine: 'sum' as const },
    { learnMean: true, decay: 1 },
    { space: 'input' as const, learnMean: true },
    { refit: true },
  ];
  for (const v of variants) {
    const res = await trainHead({ pooled, labels, initHead, options: { ...v, maxEpochs: 2 } });
    assert.equal(res.metrics.epochs.length, 2, JSON.stringify(v));
    assert.ok(res.metrics.epochs.every((e) => Number.isFinite(e.loss) && e.heldOutR1 >= 0));
    if (v.arch === 'B') {
      assert.equal(res.adopted, false);
      assert.equal(res.model.arch, 'B');
    }
    if (v.combine === 'sum') assert.equal(res.head.combine, 'sum');
  }
});

test('small albums: cross-validation over every album photo adopts a real gain that one split cannot show', async () => {
  // 2 albums of 10 photos: the single split holds out 6 photos, too few for a sign test at p <= 0.01;
  // 4-fold cross-validation judges all 20
  const few = syntheticPooled(2, 10, 32, 1);
  const head = learnWhiteningHead(few.pooled, { combo: 'SG', dim: 16 });
  const input = { pooled: few.pooled, labels: few.labels, initHead: head };
  const single = await trainHead({ ...input, options: { seed: 1, folds: 0 } });
  assert.equal(single.adopted, false, single.reason);
  assert.match(single.reason, /only 6 photos are held out to judge it/);
  assert.match(single.reason, /add photos to each album \(about 14 per album\) or label one more album/);
  const res = await trainHead({ ...input, options: { seed: 1 } });
  assert.equal(res.adopted, true, res.reason);
  assert.match(res.reason, /^Adopted: tested on all 20 album photos in turn \(4-fold cross-validation\)/);
  const cv = res.metrics.cv!;
  assert.equal(cv.photos, 20);
  assert.ok(cv.after.mAP > cv.before.mAP + 0.05, JSON.stringify(cv));
  assert.ok(res.metrics.p <= 0.01 && res.metrics.wins > res.metrics.losses);
});

test('small albums, shuffled labels: never adopted, and the reason says why and what would help', async () => {
  for (const [albums, seed] of [
    [2, 1],
    [3, 2],
    [4, 3],
    [4, 4],
  ]) {
    const few = syntheticPooled(albums, 10, 32, seed);
    const head = learnWhiteningHead(few.pooled, { combo: 'SG', dim: 16 });
    const shuffled = shuffleInPlace([...few.labels], makeRng(seed + 10));
    const res = await trainHead({ pooled: few.pooled, labels: shuffled, initHead: head, options: { seed } });
    assert.equal(res.adopted, false, `${albums} albums, seed ${seed}: ${res.reason}`);
    assert.match(res.reason, /^Not adopted: .*What would help: /);
  }
});
