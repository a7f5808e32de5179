import { test } from 'node:test';
import assert from 'node:assert/strict';
import { symmetricEigen } from '../../src-main/engine/head/symmetric-eigen';

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
