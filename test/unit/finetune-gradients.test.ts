/**
 * Finite-difference checks of every hand-written backward pass of the fine-tune head: central differences
 * on a sample of coordinates, compared with the analytic gradient.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  composeOutputSpace,
  headFromModel,
  HeadNet,
  l2NormalizeBackward,
  linearBackward,
  modelFromHead,
  outputSpaceModel,
  prepareInputs,
  projectInputs,
  type Architecture,
} from '../../src-main/engine/finetune/head-model';
import { batchHardTriplet, smoothedCrossEntropy } from '../../src-main/engine/finetune/losses';
import { rankingQuality, recallAt1, signTestP, signedRankP } from '../../src-main/engine/finetune/recall';
import { gaussian, makeRng, type Rng } from '../../src-main/engine/finetune/rng';
import { WeightAdapter } from '../../src-main/engine/finetune/weight-adapter';
import type { HeadWeights, Pooled } from '../../src-main/engine/head/head-types';
import { l2NormalizeRows, linearForward, projectBatch } from '../../src-main/engine/head/project';

function randn(n: number, rng: Rng, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = gaussian(rng) * scale;
  return a;
}

/** Central-difference check of `analytic` against loss(), on up to `samples` coordinates of `param`. */
function checkGrad(
  name: string,
  loss: () => number,
  param: Float32Array,
  analytic: Float32Array,
  rng: Rng,
  samples = 25,
  h = 3e-3,
): void {
  let worst = 0;
  const picks =
    param.length <= samples
      ? [...param.keys()]
      : [...Array(samples)].map(() => Math.floor(rng() * param.length));
  let maxAbs = 0;
  for (const v of analytic) maxAbs = Math.max(maxAbs, Math.abs(v));
  assert.ok(maxAbs > 0, `${name}: analytic gradient is identically zero`);
  for (const i of picks) {
    const keep = param[i];
    param[i] = keep + h;
    const up = loss();
    param[i] = keep - h;
    const down = loss();
    param[i] = keep;
    const numeric = (up - down) / (2 * h);
    const err =
      Math.abs(numeric - analytic[i]) /
      Math.max(5e-2 * maxAbs, 1e-4, Math.abs(numeric) + Math.abs(analytic[i]));
    worst = Math.max(worst, err);
    assert.ok(err < 2e-2, `${name}[${i}]: numeric ${numeric} vs analytic ${analytic[i]}`);
  }
  assert.ok(worst < 2e-2);
}

function dot(a: Float32Array, b: Float32Array, n = a.length): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

test('linear + L2 normalisation: gradients of W and x', () => {
  const rng = makeRng(1);
  const rows = 5;
  const inD = 7;
  const outD = 4;
  const x = randn(rows * inD, rng);
  const W = randn(outD * inD, rng);
  const r = randn(rows * outD, rng);
  const z = new Float32Array(rows * outD);
  const y = new Float32Array(rows * outD);
  const norms = new Float32Array(rows);
  const loss = () => {
    linearForward(x, W, null, rows, inD, outD, z);
    l2NormalizeRows(z, rows, outD, y, norms);
    return dot(r, y);
  };
  loss();
  const dz = new Float32Array(rows * outD);
  l2NormalizeBackward(r, y, norms, rows, outD, dz);
  const gW = new Float32Array(W.length);
  const dx = new Float32Array(x.length);
  linearBackward(dz, x, W, rows, inD, outD, gW, null, dx);
  checkGrad('W', loss, W, gW, rng);
  checkGrad('x', loss, x, dx, rng);
});

/**
 * Smallest margin by which batch-hard picks its hardest positive/negative, and distance of the hinge from
 * zero: finite differences are only meaningful away from these kinks, so tests pick data where it is large.
 */
function kinkDistance(emb: Float32Array, rows: number, dim: number, labels: number[]): number {
  let gap = Infinity;
  for (let a = 0; a < rows; a++) {
    const pos: number[] = [];
    const neg: number[] = [];
    for (let b = 0; b < rows; b++) {
      if (b === a) continue;
      const d = Math.sqrt(Math.max(2 - 2 * dot(emb.subarray(a * dim), emb.subarray(b * dim), dim), 1e-12));
      (labels[a] === labels[b] ? pos : neg).push(d);
    }
    pos.sort((x, y) => y - x);
    neg.sort((x, y) => x - y);
    gap = Math.min(gap, pos[0] - pos[1], neg[1] - neg[0], Math.abs(pos[0] - neg[0] + 0.1));
  }
  return gap;
}

function randomHead(
  rng: Rng,
  combo: string,
  inDim: number,
  outDim: number,
  combine: 'concat' | 'sum' = 'concat',
): HeadWeights {
  return {
    combo,
    combine,
    branches: [...combo].map((k, i) => ({
      kind: k as 'S' | 'M' | 'G',
      inDim,
      outDim,
      mean: randn(inDim, rng, 0.3),
      weight: randn(outDim * inDim, rng, 1 / Math.sqrt(inDim)),
      power: i === 0 ? 1 : 0.5,
    })),
  };
}

function randomPooled(rng: Rng, n: number, inDim: number): Pooled[] {
  return [...Array(n)].map(() => ({
    S: randn(inDim, rng),
    M: randn(inDim, rng),
    G: randn(inDim, rng).map(Math.abs),
  }));
}

for (const combine of ['concat', 'sum'] as const) {
  test(`${combine} + L2 of the branches: gradients of every branch's W and μ`, () => {
    const rng = makeRng(2);
    const rows = 6;
    const model = modelFromHead(randomHead(rng, 'SG', 6, 4, combine), 'CGD');
    const inputs = prepareInputs(model, randomPooled(rng, rows, 6));
    const net = new HeadNet(model, 0, rows);
    const idx = [...Array(rows).keys()];
    const r = randn(rows * net.outDim, rng);
    const loss = () => {
      net.forward(inputs, idx, rows, false);
      return dot(r, net.psi, rows * net.outDim);
    };
    loss();
    net.zeroGrads();
    net.backward(rows, { dPsi: r, dPhi: null, dLogits: null }, true);
    for (let i = 0; i < 2; i++) {
      checkGrad(`W${i}`, loss, model.branches[i].weight, net.gW[i], rng);
      checkGrad(`mu${i}`, loss, model.branches[i].mean, net.gMu[i], rng);
    }
  });
}

test('batch-hard triplet loss: gradient of the embeddings', () => {
  const rows = 12;
  const dim = 5;
  const labels = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3];
  const y = new Float32Array(rows * dim);
  const norms = new Float32Array(rows);
  let rng: Rng;
  let seed = 3;
  do {
    rng = makeRng(seed++);
    l2NormalizeRows(randn(rows * dim, rng), rows, dim, y, norms);
  } while (kinkDistance(y, rows, dim, labels) < 0.01);
  const grad = new Float32Array(rows * dim);
  const scratch = new Float32Array(rows * dim);
  const res = batchHardTriplet(y, rows, dim, labels, 0.1, grad);
  assert.ok(res.active > 0, 'some triplets must be active for the check to mean something');
  checkGrad('emb', () => batchHardTriplet(y, rows, dim, labels, 0.1, scratch).loss, y, grad, rng, 60);
});

for (const [eps, tau] of [
  [0, 1],
  [0.1, 1],
  [0, 0.5],
  [0.1, 0.5],
]) {
  test(`cross-entropy (smoothing ${eps}, temperature ${tau}): gradient of the logits`, () => {
    const rng = makeRng(4);
    const rows = 5;
    const K = 6;
    const logits = randn(rows * K, rng, 2);
    const labels = [0, 3, 5, 2, 3];
    const grad = new Float32Array(rows * K);
    const scratch = new Float32Array(rows * K);
    smoothedCrossEntropy(logits, rows, K, labels, tau, eps, grad);
    checkGrad(
      'logits',
      () => smoothedCrossEntropy(logits, rows, K, labels, tau, eps, scratch),
      logits,
      grad,
      rng,
      30,
    );
  });
}

test('cross-entropy with smoothing equals the hand-computed value', () => {
  // two classes, logits 0 and ln 3 at τ = 1: p = (1/4, 3/4); target 0 smoothed by 0.1: q = (0.95, 0.05)
  const logits = Float32Array.from([0, Math.log(3)]);
  const g = new Float32Array(2);
  const l = smoothedCrossEntropy(logits, 1, 2, [0], 1, 0.1, g);
  assert.ok(Math.abs(l - (-0.95 * Math.log(0.25) - 0.05 * Math.log(0.75))) < 1e-6);
  assert.ok(Math.abs(g[0] - (0.25 - 0.95)) < 1e-6);
});

for (const arch of ['CGD', 'A', 'B'] as Architecture[]) {
  test(`whole head (${arch}): triplet + classification loss, gradients of all parameters`, () => {
    const rows = 12;
    const K = 4;
    const labels = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3];
    const idx = [...Array(rows).keys()];
    // the first seed whose data sits well away from the batch-hard selection kinks
    let seed = 5;
    let rng: Rng;
    let model: ReturnType<typeof modelFromHead>;
    let inputs: Float32Array[];
    let net: HeadNet;
    for (;;) {
      rng = makeRng(seed++);
      model = modelFromHead(randomHead(rng, 'SMG', 5, 3), arch);
      inputs = prepareInputs(model, randomPooled(rng, rows, 5));
      net = new HeadNet(model, K, rows);
      net.forward(inputs, idx, rows, false);
      const ok =
        arch === 'A'
          ? net.phi.every((p, i) => kinkDistance(p, rows, model.branches[i].outDim, labels) > 0.01)
          : kinkDistance(net.psi, rows, net.outDim, labels) > 0.01;
      if (ok) break;
    }
    net.classW.set(randn(net.classW.length, rng));
    net.classB.set(randn(K, rng, 0.1));
    const dPsi = new Float32Array(rows * net.outDim);
    const dPhi = model.branches.map((b) => new Float32Array(rows * b.outDim));
    const dLogits = new Float32Array(rows * K);
    const lossAndGrads = () => {
      net.forward(inputs, idx, rows, true);
      let l = smoothedCrossEntropy(net.logits, rows, K, labels, 0.5, 0.1, dLogits);
      if (arch === 'A') {
        for (let i = 0; i < net.nb; i++) {
          l += batchHardTriplet(net.phi[i], rows, model.branches[i].outDim, labels, 0.1, dPhi[i]).loss;
        }
      } else {
        l += batchHardTriplet(net.psi, rows, net.outDim, labels, 0.1, dPsi).loss;
      }
      return l;
    };
    lossAndGrads();
    net.zeroGrads();
    net.backward(rows, { dPsi: arch === 'A' ? null : dPsi, dPhi: arch === 'A' ? dPhi : null, dLogits }, true);
    const gW = net.gW.map((g) => Float32Array.from(g));
    const gMu = net.gMu.map((g) => Float32Array.from(g));
    const gCW = Float32Array.from(net.gClassW);
    const gCB = Float32Array.from(net.gClassB);
    for (let i = 0; i < net.nb; i++) {
      checkGrad(`W${i}`, lossAndGrads, model.branches[i].weight, gW[i], rng);
      checkGrad(`mu${i}`, lossAndGrads, model.branches[i].mean, gMu[i], rng);
    }
    checkGrad('Wc', lossAndGrads, net.classW, gCW, rng);
    checkGrad('bc', lossAndGrads, net.classB, gCB, rng);
  });
}

test('ranking quality: Recall@1 and average precision on a hand-made ranking', () => {
  // unit vectors at these angles; labels alternate so that the rankings are known by hand
  const ang = [0, 0.12, 0.3, 0.2, 2.0];
  const emb = new Float32Array(ang.flatMap((a) => [Math.cos(a), Math.sin(a)]));
  const labels = [0, 1, 0, 1, 0];
  const all = [0, 1, 2, 3, 4];
  // query 0 ranks 1 (other), 3 (other), 2 (same), 4 (same): a miss, AP = (1/3 + 2/4) / 2
  // query 1 ranks 3 (same) first: a hit, AP = 1
  const q = rankingQuality(emb, 2, labels, [0, 1], all);
  assert.equal(q.r1, 0.5);
  assert.ok(Math.abs(q.ap[0] - (1 / 3 + 2 / 4) / 2) < 1e-9);
  assert.equal(q.ap[1], 1);
  const r = recallAt1(emb, 2, labels, [0, 1]);
  assert.deepEqual(Array.from(r.correct), [0, 1]);
});

test('sign test: exact binomial tail', () => {
  assert.equal(signTestP(0, 0), 1);
  assert.ok(Math.abs(signTestP(3, 0) - 1 / 8) < 1e-12);
  assert.ok(Math.abs(signTestP(2, 1) - 4 / 8) < 1e-12);
});

test('signed-rank test: exact tail, ties at mid-rank, zeros dropped, normal tail for many photos', () => {
  assert.equal(signedRankP([]), 1);
  assert.ok(Math.abs(signedRankP([1, 2, 3, 4, 5]) - 1 / 32) < 1e-12);
  // W+ = 13 of 15: the patterns with W- <= 2 are {}, {1}, {2}
  assert.ok(Math.abs(signedRankP([1, -2, 3, 4, 5]) - 3 / 32) < 1e-12);
  // a zero counts for nothing; a tie (|0.5| twice) shares ranks 1-2: W- = 1.5, and W- <= 1.5 for the
  // sign patterns {}, {first 0.5}, {second 0.5}: 3/8
  assert.ok(Math.abs(signedRankP([0, 0.5, -0.5, 2]) - 3 / 8) < 1e-12);
  // magnitudes matter, unlike the sign test: small losses, large gains
  const d = [0.3, 0.25, 0.2, 0.4, -0.01, -0.02, 0.35, -0.03, 0.5, 0.45];
  assert.ok(signedRankP(d) < 0.02 && signTestP(7, 3) > 0.15);
  // beyond 400 differences, the normal approximation agrees with the exact tail of a smaller case
  const many = Array.from({ length: 500 }, (_, i) => ((i * 37) % 101) / 100 - 0.45);
  const p = signedRankP(many);
  assert.ok(p > 0 && p < 0.05, `p = ${p}`);
  assert.ok(signedRankP(many.map((x) => -x)) > 0.95);
});

test('output-space training folds back exactly: M·W₀ and μ₀ + W₀⁺ν give the same descriptors', () => {
  const rng = makeRng(8);
  const rows = 7;
  const head = randomHead(rng, 'SG', 9, 4);
  const base = modelFromHead(head, 'CGD');
  const pooled = randomPooled(rng, rows, 9);
  const raw = prepareInputs(base, pooled);
  const small = outputSpaceModel(base);
  for (const b of small.branches) {
    b.weight.set(randn(b.weight.length, rng));
    b.mean.set(randn(b.mean.length, rng, 0.5));
  }
  const viaSmall = new HeadNet(small, 0, rows).embedAll(projectInputs(base, raw, rows), rows);
  const composed = composeOutputSpace(base, small);
  const viaComposed = new HeadNet(composed, 0, rows).embedAll(prepareInputs(composed, pooled), rows);
  const served = projectBatch(headFromModel(composed)!, pooled);
  for (let i = 0; i < viaSmall.length; i++) {
    assert.ok(Math.abs(viaSmall[i] - viaComposed[i]) < 1e-4, `element ${i}`);
    assert.ok(Math.abs(served[Math.floor(i / 8)][i % 8] - viaSmall[i]) < 1e-4, `served element ${i}`);
  }
});

for (const kind of ['lowrank', 'diagonal'] as const) {
  test(`weight adapter (${kind}): chain rule from ∂L/∂W to its parameters`, () => {
    const rng = makeRng(9);
    const n = 6;
    const w = randn(n * n, rng);
    const gw = new Float32Array(n * n);
    const a = new WeightAdapter(w, gw, n, n, kind, 3, rng);
    // move away from the initial point (U = 0 would make ∂L/∂V vanish)
    for (const t of a.tensors()) for (let i = 0; i < t.value.length; i++) t.value[i] += 0.3 * gaussian(rng);
    a.materialize();
    const R = randn(n * n, rng);
    const loss = () => {
      a.materialize();
      let s = 0;
      for (let i = 0; i < w.length; i++) s += R[i] * w[i] * w[i];
      return s;
    };
    loss();
    for (let i = 0; i < w.length; i++) gw[i] = 2 * R[i] * w[i];
    a.pullGrads();
    for (const [k, t] of a.tensors().entries())
      checkGrad(`${kind}[${k}]`, loss, t.value, Float32Array.from(t.grad), rng);
  });
}
