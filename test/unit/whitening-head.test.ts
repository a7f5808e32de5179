import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pooled } from '../../src-main/engine/head/head-types';
import { headOutDim } from '../../src-main/engine/head/head-types';
import { projectBatch, projectOne } from '../../src-main/engine/head/project';
import { identityHead, learnWhiteningHead, parseCombo } from '../../src-main/engine/head/whitening';

function synthetic(n: number, c: number, seed = 1): Pooled[] {
  let s = seed;
  const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
  // Anisotropic data: a few strong directions, like real pooled descriptors.
  return Array.from({ length: n }, () => {
    const v = () => Float32Array.from({ length: c }, (_, i) => rnd() * (i < 4 ? 10 : 1) + (i === 0 ? 5 : 0));
    return { S: v(), M: v(), G: v() };
  });
}

test('combinations are parsed by letters; invalid ones are refused', () => {
  assert.deepEqual(parseCombo('SG'), ['S', 'G']);
  assert.deepEqual(parseCombo('GS'), ['G', 'S']);
  assert.throws(() => parseCombo('SS'), /distinct letters/);
  assert.throws(() => parseCombo('X'), /Invalid descriptor combination/);
});

test('whitening head: per-branch outputs are unit vectors; combined descriptor is unit and of the right size', () => {
  const pooled = synthetic(60, 16);
  const head = learnWhiteningHead(pooled, { combo: 'SMG', dim: 8, shrinkage: 0.1 });
  assert.equal(head.branches.length, 3);
  assert.equal(headOutDim(head), 24);
  const [v] = projectBatch(head, [pooled[0]]);
  for (let b = 0; b < 3; b++) {
    let n = 0;
    for (let i = b * 8; i < (b + 1) * 8; i++) n += v[i] * v[i];
    assert.ok(Math.abs(n - 1 / 3) < 1e-5, `each branch carries 1/3 of the norm, got ${n}`);
  }
});

test('whitening decorrelates the library: projected training vectors have ~diagonal covariance', () => {
  const pooled = synthetic(400, 10, 3);
  const head = learnWhiteningHead(pooled, { combo: 'S', dim: 4, shrinkage: 0 });
  const b = head.branches[0];
  // Project without the final L2 to look at the raw whitened coordinates.
  const ys = pooled.map((p) => {
    const x = Float32Array.from(p.S);
    let nn = 0;
    for (const e of x) nn += e * e;
    for (let i = 0; i < x.length; i++) x[i] /= Math.sqrt(nn);
    return Array.from({ length: 4 }, (_, o) => {
      let acc = 0;
      for (let i = 0; i < 10; i++) acc += b.weight[o * 10 + i] * (x[i] - b.mean[i]);
      return acc;
    });
  });
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++) {
      const cov = ys.reduce((a, y) => a + y[i] * y[j], 0) / ys.length;
      assert.ok(Math.abs(cov - (i === j ? 1 : 0)) < 0.02, `cov[${i}][${j}] = ${cov}`);
    }
});

test('identity head ranks by plain cosine of L2-normalised branches', () => {
  const head = identityHead(3, 'S');
  const v = projectOne(head, {
    S: new Float32Array([3, 0, 4]),
    M: new Float32Array(3),
    G: new Float32Array(3),
  });
  assert.deepEqual(
    Array.from(v).map((x) => +x.toFixed(6)),
    [0.6, 0, 0.8],
  );
});

test('too few photos is a clear error', () => {
  assert.throws(() => learnWhiteningHead(synthetic(1, 4)), /At least 2 photos/);
});
