/**
 * Eigen-decomposition of a real symmetric matrix: Householder tridiagonalisation followed by the
 * implicit QL algorithm (the classic tred2/tql2 pair, as in EISPACK and JAMA). O(n³), numerically
 * stable, and fast enough for the few-hundred-dimensional covariances of pooled descriptors.
 */

export interface EigenResult {
  /** eigenvalues in descending order */
  values: Float64Array;
  /** eigenvectors as rows, in the same order: vectors[k*n + i] */
  vectors: Float64Array;
}

/** `a` is row-major n × n and symmetric; it is not modified. */
export function symmetricEigen(a: Float64Array, n: number): EigenResult {
  const V = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tred2(V, d, e, n);
  // QL works on the transpose, so that its Givens rotations touch two contiguous rows rather than
  // two strided columns (several times faster for n in the hundreds). Rows of W are eigenvectors.
  const W = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) W[j * n + i] = V[i * n + j];
  tql2(W, d, e, n);
  const order = Array.from(d.keys()).sort((i, j) => d[j] - d[i]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((row, k) => {
    values[k] = d[row];
    vectors.set(W.subarray(row * n, row * n + n), k * n);
  });
  return { values, vectors };
}

function tred2(V: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        V[j * n + i] = f;
        g = e[j] + V[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j] * d[k];
          e[k] += V[k * n + j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) V[k * n + j] -= f * e[k] + g * d[k];
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i];
    V[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1] * V[k * n + j];
        for (let k = 0; k <= i; k++) V[k * n + j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j];
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** `W` is the transpose of tred2's V: eigenvector i is row i. */
function tql2(W: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      for (let iter = 0; iter < 60; iter++) {
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const ri = i * n;
          const rj = ri + n;
          for (let k = 0; k < n; k++) {
            h = W[rj + k];
            W[rj + k] = s * W[ri + k] + c * h;
            W[ri + k] = c * W[ri + k] - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
        if (!(Math.abs(e[l]) > eps * tst1)) break;
      }
    }
    d[l] = d[l] + f;
    e[l] = 0;
  }
}

/**
 * The non-zero eigenpairs of XᵀX (d × d) for X with r rows of length d (row-major), through the smaller
 * of XᵀX and the r × r Gram matrix XXᵀ: the two share their non-zero eigenvalues, and each eigenvector of
 * XᵀX is Xᵀu/√μ for an eigenpair (μ, u) of XXᵀ. With fewer rows than dimensions (a small library, small
 * albums) that is O(d·r² + r³) instead of O(d³). Eigenvalues descending; `vectors` holds `values.length`
 * rows of length d; the rest of the spectrum is zero.
 */
export function eigenOfRows(X: Float64Array, r: number, d: number): EigenResult {
  if (r >= d) {
    const xtx = new Float64Array(d * d);
    for (let q = 0; q < r; q++) {
      const row = q * d;
      for (let i = 0; i < d; i++) {
        const xi = X[row + i];
        if (xi === 0) continue;
        for (let j = i; j < d; j++) xtx[i * d + j] += xi * X[row + j];
      }
    }
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) xtx[i * d + j] = xtx[j * d + i];
    return symmetricEigen(xtx, d);
  }
  const gram = new Float64Array(r * r);
  for (let a = 0; a < r; a++)
    for (let b = a; b < r; b++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += X[a * d + i] * X[b * d + i];
      gram[a * r + b] = dot;
      gram[b * r + a] = dot;
    }
  const small = symmetricEigen(gram, r);
  const top = Math.max(small.values[0], 0);
  let count = 0;
  while (count < r && small.values[count] > 1e-12 * top) count++;
  const values = small.values.slice(0, count);
  const vectors = new Float64Array(count * d);
  for (let k = 0; k < count; k++) {
    const out = vectors.subarray(k * d, (k + 1) * d);
    for (let a = 0; a < r; a++) {
      const u = small.vectors[k * r + a] / Math.sqrt(values[k]);
      if (u !== 0) for (let i = 0; i < d; i++) out[i] += X[a * d + i] * u;
    }
  }
  return { values, vectors };
}
