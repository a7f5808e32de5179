import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eigenOfRows, symmetricEigen } from '../../src-main/engine/head/symmetric-eigen';

test('eigen-decomposition reconstructs a random symmetric matrix', () => {
  const n = 12;
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = rnd();
  const { values, vectors } = symmetricEigen(a, n);
  for (let k = 1; k < n; k++) assert.ok(values[k - 1] >= values[k], 'descending order');
  // A v_k = λ_k v_k and the vectors are orthonormal
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let j = 0; j < n; j++) av += a[i * n + j] * vectors[k * n + j];
      assert.ok(Math.abs(av - values[k] * vectors[k * n + i]) < 1e-9, `A v = λ v for k=${k}`);
    }
    for (let m = 0; m < n; m++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += vectors[k * n + i] * vectors[m * n + i];
      assert.ok(Math.abs(dot - (k === m ? 1 : 0)) < 1e-9);
    }
  }
});

test('eigenvalues of a diagonal matrix are its diagonal, sorted', () => {
  const a = new Float64Array([3, 0, 0, 0, 1, 0, 0, 0, 2]);
  assert.deepEqual(Array.from(symmetricEigen(a, 3).values), [3, 2, 1]);
});

test('eigenOfRows: the non-zero eigenpairs of XᵀX, through the Gram matrix when X has fewer rows', () => {
  const d = 12;
  for (const r of [5, 20]) {
    let seed = r;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const X = Float64Array.from({ length: r * d }, rand);
    const xtx = new Float64Array(d * d);
    for (let q = 0; q < r; q++)
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) xtx[i * d + j] += X[q * d + i] * X[q * d + j];
    const full = symmetricEigen(xtx, d);
    const { values, vectors } = eigenOfRows(X, r, d);
    assert.equal(values.length, Math.min(r, d), `r = ${r}: one eigenpair per non-zero eigenvalue`);
    values.forEach((mu, k) => {
      assert.ok(Math.abs(mu - full.values[k]) < 1e-9 * full.values[0], `r = ${r}: eigenvalue ${k}`);
      const v = vectors.subarray(k * d, (k + 1) * d);
      let norm = 0;
      for (let i = 0; i < d; i++) {
        let av = 0;
        for (let j = 0; j < d; j++) av += xtx[i * d + j] * v[j];
        assert.ok(Math.abs(av - mu * v[i]) < 1e-9 * full.values[0], `r = ${r}: XᵀX v = μ v`);
        norm += v[i] * v[i];
      }
      assert.ok(Math.abs(norm - 1) < 1e-9, `r = ${r}: unit eigenvector`);
    });
  }
});
