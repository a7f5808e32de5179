import assert from 'node:assert/strict';
import test from 'node:test';
import { albumInit, withinWhitening } from '../../src-main/engine/finetune/album-init';
import { symmetricEigen } from '../../src-main/engine/head/symmetric-eigen';
import { recallAt1 } from '../../src-main/engine/finetune/recall';
import { gaussian, makeRng } from '../../src-main/engine/finetune/rng';

/**
 * Head outputs of one branch (D = 12): albums differ along dims 0–3 only, weakly; every photo also varies
 * strongly along dims 4–11 (lighting, pose: within-album nuisance). Under the identity the nuisance
 * decides the nearest neighbour; a within-album whitening should suppress it.
 */
const D = 12;
function outputs(classes: number, perClass: number, seed: number) {
  const rng = makeRng(seed);
  const centres = Array.from({ length: classes }, () =>
    Float32Array.from({ length: D }, (_, i) => (i < 4 ? 1.2 * gaussian(rng) : 0)),
  );
  const y = new Float32Array(classes * perClass * D);
  const cls = new Int32Array(classes * perClass);
  for (let c = 0; c < classes; c++)
    for (let j = 0; j < perClass; j++) {
      const r = c * perClass + j;
      cls[r] = c;
      for (let i = 0; i < D; i++) y[r * D + i] = centres[c][i] + (i < 4 ? 0.35 : 2) * gaussian(rng);
    }
  return { y, cls };
}

function embed(y: Float32Array, M: Float64Array | null): Float32Array {
  const out = new Float32Array(y.length);
  for (let o = 0; o < y.length; o += D) {
    let s = 0;
    for (let i = 0; i < D; i++) {
      let v = y[o + i];
      if (M) {
        v = 0;
        for (let j = 0; j < D; j++) v += M[i * D + j] * y[o + j];
      }
      out[o + i] = v;
      s += v * v;
    }
    for (let i = 0; i < D; i++) out[o + i] /= Math.sqrt(s);
  }
  return out;
}

test('album whitening suppresses within-album variation: held-out photos find their album', () => {
  const { y, cls } = outputs(6, 30, 3);
  // 8 labelled photos per album, the other 22 are queries
  const labelled: number[] = [];
  const queries: number[] = [];
  cls.forEach((_, r) => (r % 30 < 8 ? labelled : queries).push(r));
  const { M, pseudo } = albumInit({ y: [y], dims: [D], cls, labelled }, { pseudoK: 0 });
  assert.equal(M.length, 1);
  assert.equal(M[0].length, D * D);
  assert.ok(M[0].every(Number.isFinite));
  assert.equal(pseudo.length, 0);
  const before = recallAt1(embed(y, null), D, cls, queries).r1;
  const after = recallAt1(embed(y, M[0]), D, cls, queries).r1;
  assert.ok(after > before + 0.2, `R@1 ${before.toFixed(2)} → ${after.toFixed(2)}`);
});

test('self-training: confident library photos join the right album, and only with a pool', () => {
  const albums = outputs(5, 40, 11);
  // the album photos passed are the labelled ones; the library pool holds the rest of those albums
  // plus photos of 5 other, never-labelled subjects
  const keep = (r: number) => r % 40 < 8;
  const rows = Array.from(albums.cls.keys());
  const y = Float32Array.from(rows.filter(keep).flatMap((r) => [...albums.y.subarray(r * D, r * D + D)]));
  const cls = Int32Array.from(rows.filter(keep).map((r) => albums.cls[r]));
  const strangers = outputs(5, 40, 12);
  const poolRows = rows.filter((r) => !keep(r));
  const library = new Float32Array((poolRows.length + strangers.cls.length) * D);
  poolRows.forEach((r, i) => library.set(albums.y.subarray(r * D, r * D + D), i * D));
  library.set(strangers.y, poolRows.length * D);
  const truth = (index: number) => (index < poolRows.length ? albums.cls[poolRows[index]] : -1);

  const result = albumInit(
    { y: [y], dims: [D], cls, labelled: Array.from(cls.keys()), library: [library] },
    { pseudoK: 3, pseudoThreshold: 0.8 },
  );
  assert.ok(result.pseudo.length >= 10, `${result.pseudo.length} photos self-labelled`);
  const right = result.pseudo.filter((p) => truth(p.index) === p.album).length;
  assert.ok(right / result.pseudo.length >= 0.9, `precision ${right}/${result.pseudo.length}`);
  assert.ok(result.pseudo.every((p) => p.index >= 0 && p.index < library.length / D));

  const none = albumInit(
    { y: [y], dims: [D], cls, labelled: Array.from(cls.keys()), library: [library] },
    { pseudoK: 0 },
  );
  assert.equal(none.pseudo.length, 0);
});

test('within-album whitening: the small-Gram route (fewer photos than dimensions) equals the d × d one', () => {
  const rng = makeRng(4);
  const d = 30;
  const groups = [
    [0, 1, 2, 3],
    [4, 5, 6],
    [7, 8, 9, 10, 11],
  ];
  const z = Float64Array.from({ length: 12 * d }, () => gaussian(rng));
  const means = groups.map((g) => {
    const m = new Float64Array(d);
    for (const r of g) for (let i = 0; i < d; i++) m[i] += z[r * d + i] / g.length;
    return m;
  });
  const o = { shrinkage: 0.1, power: 0.25, emphasis: 1, pseudoK: 0, pseudoThreshold: 0.3, pseudoRounds: 1 };
  const fast = withinWhitening(z, d, groups, means, o); // 12 rows < 30/2: Gram route
  // reference: the scatter, shrunk, and its −p power through a full decomposition
  const sw = new Float64Array(d * d);
  let trace = 0;
  groups.forEach((g, gi) => {
    for (const r of g)
      for (let i = 0; i < d; i++)
        for (let j = 0; j < d; j++)
          sw[i * d + j] += (z[r * d + i] - means[gi][i]) * (z[r * d + j] - means[gi][j]);
  });
  for (let i = 0; i < d; i++) trace += sw[i * d + i];
  for (let i = 0; i < d * d; i++) sw[i] *= 0.9 / (trace / d);
  for (let i = 0; i < d; i++) sw[i * d + i] += 0.1;
  const e = symmetricEigen(sw, d);
  let maxDiff = 0;
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let ref = 0;
      for (let k = 0; k < d; k++)
        ref += e.vectors[k * d + i] * e.vectors[k * d + j] * Math.pow(e.values[k], -0.25);
      maxDiff = Math.max(maxDiff, Math.abs(ref - fast[i * d + j]));
    }
  assert.ok(maxDiff < 1e-8, `max difference ${maxDiff}`);
});
