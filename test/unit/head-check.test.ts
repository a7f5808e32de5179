import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pooled } from '../../src-main/engine/head/head-types';
import { compareHeads, mutualNeighbourRate } from '../../src-main/engine/head/head-check';
import { projectBatch } from '../../src-main/engine/head/project';
import { identityHead } from '../../src-main/engine/head/whitening';

const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / n);
};

test('mutual nearest-neighbour rate: pairs count, a hub does not', () => {
  // two tight pairs: everyone's nearest is mutual
  const pairs = [unit([1, 0.1, 0]), unit([1, 0.12, 0]), unit([0, 1, 0.1]), unit([0, 1, 0.12])];
  assert.equal(mutualNeighbourRate(pairs), 100);
  // a hub: three photos all nearest to the same one, which can be mutual with only one of them
  const hub = [unit([1, 1, 1]), unit([1, 0.2, 0]), unit([0, 1, 0.2]), unit([0.2, 0, 1])];
  assert.equal(mutualNeighbourRate(hub), 50);
  assert.equal(mutualNeighbourRate([unit([1, 0])]), 0);
});

test('compareHeads keeps the active head when the candidate throws the neighbours away', async () => {
  // Pairs of near-copies along the first 4 channels; channel 5 is the same for every photo.
  const photos: Pooled[] = [];
  for (let g = 0; g < 4; g++)
    for (const jitter of [0, 0.05]) {
      const v = new Float32Array(6);
      v[g] = 1;
      v[(g + 1) % 4] = 0.3 + jitter;
      v[5] = 1;
      photos.push({ S: v, M: v, G: v });
    }
  const good = identityHead(6, 'S');
  // a head that only sees channel 5: every photo looks alike
  const bad = identityHead(6, 'S');
  bad.branches[0].outDim = 1;
  bad.branches[0].weight = Float32Array.from([0, 0, 0, 0, 0, 1]);
  const verdict = await compareHeads(bad, good, photos, projectBatch);
  assert.equal(verdict.active, 100);
  assert.ok(verdict.candidate < verdict.active, JSON.stringify(verdict));
  assert.equal(verdict.adopt, false);
  assert.equal((await compareHeads(good, good, photos, projectBatch)).adopt, true);
});
