/**
 * The library guard (finetune/library-guard.ts) and its place in the adoption rule: a head that scrambles
 * the neighbours of photos nobody labelled is refused, or tempered until it does not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LibraryGuard,
  evenSample,
  listOverlap,
  nearestLists,
} from '../../src-main/engine/finetune/library-guard';
import { modelFromHead } from '../../src-main/engine/finetune/head-model';
import { makeRng, gaussian } from '../../src-main/engine/finetune/rng';
import { trainHead } from '../../src-main/engine/finetune/trainer';
import { learnWhiteningHead } from '../../src-main/engine/head/whitening';
import { syntheticPooled } from './finetune-fixtures';

test('nearestLists and listOverlap: same embedding keeps every list, a permuted one keeps few', () => {
  const rng = makeRng(3);
  const n = 60;
  const dim = 8;
  const emb = Float32Array.from({ length: n * dim }, () => gaussian(rng));
  const a = nearestLists(emb, dim, n, 5);
  // brute force: the first row's nearest 5
  const sims = Array.from({ length: n }, (_, g) => {
    let s = 0;
    for (let i = 0; i < dim; i++) s += emb[i] * emb[g * dim + i];
    return [s, g];
  })
    .filter(([, g]) => g !== 0)
    .sort((x, y) => y[0] - x[0]);
  assert.deepEqual(
    Array.from(a.subarray(0, 5)),
    sims.slice(0, 5).map(([, g]) => g),
  );
  assert.equal(listOverlap(a, a, n).mean, 1);
  // rows shuffled among themselves: each photo gets another photo's vector
  const perm = Array.from({ length: n }, (_, i) => (i * 7 + 3) % n);
  const shuffled = new Float32Array(n * dim);
  perm.forEach((p, i) => shuffled.set(emb.subarray(p * dim, p * dim + dim), i * dim));
  const b = nearestLists(shuffled, dim, n, 5);
  assert.ok(listOverlap(a, b, n).mean < 0.3, `overlap ${listOverlap(a, b, n).mean}`);
  assert.deepEqual(evenSample(10, 4), [0, 2, 5, 7]);
  assert.deepEqual(evenSample(3, 4), [0, 1, 2]);
});

const lib = syntheticPooled(12, 20, 32, 11);
const head = learnWhiteningHead(lib.pooled, { combo: 'SG', dim: 16 });

test('LibraryGuard: the current head passes, a head that scrambles the library is refused', () => {
  const current = modelFromHead(head);
  const guard = new LibraryGuard(current, lib.pooled, 10, 200, 0.5);
  assert.equal(guard.photos, 200);
  const same = guard.figures(modelFromHead(head));
  assert.equal(same.overlap, 1);
  assert.equal(same.passed, true);
  // random rank-2 weights: distances come from two arbitrary directions, not from the photos' content
  const rng = makeRng(5);
  const scrambled = modelFromHead(head);
  for (const b of scrambled.branches) {
    const u = Array.from({ length: 2 * b.outDim }, () => gaussian(rng));
    const v = Array.from({ length: 2 * b.inDim }, () => gaussian(rng));
    for (let o = 0; o < b.outDim; o++)
      for (let i = 0; i < b.inDim; i++)
        b.weight[o * b.inDim + i] = u[o] * v[i] + u[b.outDim + o] * v[b.inDim + i];
  }
  const bad = guard.figures(scrambled);
  assert.ok(bad.overlap < 0.5, `overlap ${bad.overlap}`);
  assert.equal(bad.passed, false);
});

test('trainer: a stretch that would scramble the library is tempered, and the guard figure is reported', async () => {
  // albums from 4 classes of a library of 12; the rest of the library are photos of the other classes
  const data = syntheticPooled(12, 24, 32, 11);
  const albums = data.pooled.flatMap((p, i) => (data.labels[i] < 4 && i % 24 < 10 ? [i] : []));
  const inAlbum = new Set(albums);
  const library = data.pooled.filter((_, i) => !inAlbum.has(i));
  const initHead = learnWhiteningHead(data.pooled, { combo: 'SG', dim: 16 });
  const input = {
    pooled: albums.map((i) => data.pooled[i]),
    labels: albums.map((i) => data.labels[i]),
    initHead,
    library,
  };
  // a huge stretch, guard off: the library's neighbours are largely lost
  const wild = await trainHead({
    ...input,
    options: { initEmphasis: 30, maxEpochs: 3, guardMinOverlap: 1e-6 },
  });
  const lost = wild.metrics.guard!;
  assert.equal(lost.emphasis, 30);
  // guard on at a level the wild head misses: β is turned down until the start keeps the library
  const min = Math.min(0.9, lost.overlap + 0.1);
  const tame = await trainHead({
    ...input,
    options: { initEmphasis: 30, maxEpochs: 3, guardMinOverlap: min },
  });
  const kept = tame.metrics.guard!;
  assert.ok(kept.emphasis! < 30, `β ${kept.emphasis}`);
  assert.ok(kept.overlap > lost.overlap, `${kept.overlap} vs ${lost.overlap}`);
  // a guard no candidate can meet: refused, in plain words
  const strict = await trainHead({ ...input, options: { maxEpochs: 3, guardMinOverlap: 0.999 } });
  assert.equal(strict.adopted, false, strict.reason);
  assert.match(
    strict.reason,
    /^Not adopted: it would change how the rest of your library is searched too much/,
  );
  assert.match(strict.reason, /keep only \d+\.\d% of their 10 nearest neighbours/);
});
