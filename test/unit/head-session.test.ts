import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussian, makeRng } from '../../src-main/engine/finetune/rng';
import type { HeadWeights, Pooled } from '../../src-main/engine/head/head-types';
import { headOutDim } from '../../src-main/engine/head/head-types';
import { HeadSession, projectBatchFast, releaseFastSession } from '../../src-main/engine/head/head-session';
import { HeadNet, modelFromHead, prepareInputs } from '../../src-main/engine/finetune/head-model';
import { projectBatch, projectRows } from '../../src-main/engine/head/project';
import { learnWhiteningHead } from '../../src-main/engine/head/whitening';
import { cosine } from '../helpers/cosine';

const C = 48;

/** Non-negative, anisotropic vectors like post-ReLU pooled descriptors; a few signed ones too. */
function pooledSet(n: number, seed: number): Pooled[] {
  const rng = makeRng(seed);
  const v = (scale: number) =>
    Float32Array.from({ length: C }, (_, i) => Math.max(0, gaussian(rng) * (i < 4 ? 5 : 1) + scale));
  return Array.from({ length: n }, () => ({ S: v(1), M: v(3), G: v(2) }));
}

const library = pooledSet(200, 1);
const queries = pooledSet(40, 2);
// signed values (the signed power must keep the sign) and zero vectors (must not produce NaN)
queries.push({
  S: Float32Array.from({ length: C }, (_, i) => (i % 2 ? -1 : 1) * (i + 1)),
  M: Float32Array.from({ length: C }, (_, i) => Math.sin(i)),
  G: Float32Array.from({ length: C }, (_, i) => -i / C),
});
queries.push({ S: new Float32Array(C), M: new Float32Array(C), G: new Float32Array(C) });

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  assert.equal(a.length, b.length);
  let d = 0;
  a.forEach((v, i) => {
    assert.equal(v.length, b[i].length);
    v.forEach((x, k) => {
      assert.ok(Number.isFinite(x), `row ${i} col ${k} is ${x}`);
      d = Math.max(d, Math.abs(x - b[i][k]));
    });
  });
  return d;
}

async function agrees(head: HeadWeights, label: string): Promise<Float32Array[]> {
  const session = await HeadSession.create(head);
  try {
    const fast = await session.project(queries);
    assert.equal(fast[0].length, headOutDim(head));
    const d = maxDiff(fast, projectBatch(head, queries));
    assert.ok(d < 1e-5, `${label}: ORT head differs from projectBatch by ${d}`);
    return fast;
  } finally {
    await session.release();
  }
}

after(() => releaseFastSession());

for (const combo of ['SG', 'SMG', 'GS', 'M']) {
  test(`head session reproduces projectBatch: ${combo} whitening head`, async () => {
    await agrees(learnWhiteningHead(library, { combo, dim: 16 }), combo);
  });
}

test('head session reproduces projectBatch: signed power ≠ 1 and sum combine', async () => {
  const powered = learnWhiteningHead(library, { combo: 'SG', dim: 12, power: 0.5 });
  await agrees(powered, 'power 0.5');
  const sum: HeadWeights = {
    ...learnWhiteningHead(library, { combo: 'SMG', dim: 12, power: 3 }),
    combine: 'sum',
  };
  await agrees(sum, 'sum, power 3');
  // the two differ, so the comparison above can tell them apart
  const [a] = projectBatch(powered, [queries[0]]);
  const [b] = projectBatch({ ...powered, branches: powered.branches.map((x) => ({ ...x, power: 1 })) }, [
    queries[0],
  ]);
  assert.ok(maxDiff([a], [b]) > 1e-3);
});

test('zero pooled vectors give the same finite embedding as projectBatch (no NaN)', async () => {
  const head = learnWhiteningHead(library, { combo: 'SG', dim: 8 });
  const zero = queries[queries.length - 1];
  const fast = await projectBatchFast(head, [zero]);
  assert.ok(maxDiff(fast, projectBatch(head, [zero])) < 1e-5);
  // a branch whose projection is exactly zero stays zero (μ = 0, W·0 = 0): the whole embedding is zero
  const uncentred: HeadWeights = {
    ...head,
    branches: head.branches.map((b) => ({ ...b, mean: new Float32Array(C) })),
  };
  const [z] = await projectBatchFast(uncentred, [zero]);
  assert.deepEqual([...z], [...projectBatch(uncentred, [zero])[0]]);
  assert.ok(z.every((x) => x === 0));
});

test('projectBatchFast: cached per head, more rows than one run, clear error on a wrong size', async () => {
  const head = learnWhiteningHead(library, { combo: 'SG', dim: 8 });
  const many = Array.from({ length: 9000 }, (_, i) => queries[i % queries.length]);
  const fast = await projectBatchFast(head, many);
  assert.equal(fast.length, 9000);
  assert.ok(maxDiff([fast[8999], fast[0]], projectBatch(head, [many[8999], many[0]])) < 1e-5);
  const other = learnWhiteningHead(library, { combo: 'GS', dim: 8 });
  assert.ok(maxDiff(await projectBatchFast(other, queries), projectBatch(other, queries)) < 1e-5);
  assert.deepEqual(await projectBatchFast(head, []), []);
  const bad = { S: new Float32Array(C - 1), M: new Float32Array(C), G: new Float32Array(C) };
  await assert.rejects(
    projectBatchFast(head, [queries[0], bad]),
    /pooled vector 1: S has 47 values, the head expects 48/,
  );
});

/** A head as training leaves it: random (not orthogonal) weights, a learned mean, signed power. */
function trainedLikeHead(combine: 'concat' | 'sum', seed: number): HeadWeights {
  const rng = makeRng(seed);
  const branch = (kind: 'S' | 'G', power: number) => ({
    kind,
    inDim: C,
    outDim: 12,
    power,
    mean: Float32Array.from({ length: C }, () => 0.05 * gaussian(rng)),
    weight: Float32Array.from({ length: 12 * C }, () => gaussian(rng)),
  });
  return { combo: 'SG', combine, branches: [branch('S', 0.5), branch('G', 1)] };
}

test('one forward pass: projection and the trainer run the same function, and the ONNX head agrees (cosine ≥ 0.9999)', async () => {
  const heads: [string, HeadWeights][] = [
    ['whitening SG', learnWhiteningHead(library, { combo: 'SG', dim: 16 })],
    ['trained-like concat', trainedLikeHead('concat', 3)],
    ['trained-like sum', trainedLikeHead('sum', 4)],
  ];
  const rows = queries.slice(0, -1); // the zero vector has no direction to compare
  for (const [label, head] of heads) {
    const js = projectBatch(head, rows);
    // the trainer's network (its forward keeps buffers for backprop) gives the very same numbers
    const model = modelFromHead(head, 'CGD');
    const net = new HeadNet(model, 0, 16);
    assert.deepEqual(net.embedAll(prepareInputs(model, rows), rows.length), projectRows(head, rows), label);
    const session = await HeadSession.create(head);
    try {
      const onnx = await session.project(rows);
      js.forEach((v, i) => {
        const c = cosine(v, onnx[i]);
        assert.ok(c >= 0.9999, `${label}, row ${i}: cosine ${c} between the JS and ONNX heads`);
      });
    } finally {
      await session.release();
    }
  }
});
