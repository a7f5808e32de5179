/**
 * Closed-form starting point for fine-tuning, in the output space of the current whitening head (where
 * the library's own covariance is already ≈ I). Gradient training from the identity moves little with
 * ten photos per album; a supervised whitening fitted to the albums first (in the spirit of
 * Radenović et al.'s learned whitening, "Lw") does most of the work in one step:
 *
 *  1. per branch, z = y/‖y‖; the within-album scatter S_w (trace-normalised, shrunk towards I by α)
 *     is partially whitened: M₁ = S_w^(−p). Directions along which photos of one album vary (lighting,
 *     pose, background) lose weight — for every photo, not only the albums' (this alone helps
 *     never-labelled photos too);
 *  2. the album means m_c, taken in M₁-space against the *library* mean g (albums must stand out from
 *     the rest of the library, not only from each other): S_b = Σ_c (m_c − g)(m_c − g)ᵀ, and its top
 *     directions are stretched: E = I + β Σ_k √(λ_k/λ̄) v_k v_kᵀ; M = E M₁;
 *  3. self-training on the library: a library photo whose k nearest album photos (under M) all belong to
 *     one album, the k-th above similarity t, joins that album, and 1–2 are computed again with them.
 *
 * Returns one D×D matrix per branch, to be composed with the head's W (W' = M W).
 */
import type { LinearHead } from '../head/head-types';
import { embedRows, l2NormalizeRows } from '../head/project';
import { eigenOfRows, symmetricEigen } from '../head/symmetric-eigen';
import { TopK } from '../index/vector-math';

export interface AlbumInitOptions {
  /** shrinkage α of the within-album scatter towards I */
  shrinkage: number;
  /** exponent p of the partial whitening S_w^(−p) (0.5 = full whitening) */
  power: number;
  /** stretch β of the album-discriminant directions (0 = none) */
  emphasis: number;
  /** a library photo needs its k nearest album photos to agree ... (0 = no self-training) */
  pseudoK: number;
  /** ... with the k-th similarity above this */
  pseudoThreshold: number;
  /** the most any one direction is stretched (s_k ≤ cap; none by default) */
  stretchCap?: number;
  /** rounds of self-training (each round's photos vote in the next: label propagation) */
  pseudoRounds: number;
}

export const ALBUM_INIT_DEFAULTS: AlbumInitOptions = {
  shrinkage: 0.1,
  power: 0.25,
  emphasis: 1,
  pseudoK: 5,
  pseudoThreshold: 0.3,
  pseudoRounds: 1,
};

export interface AlbumInitInput {
  /** per branch: row-major n × D outputs of the current head, before normalisation */
  y: Float32Array[];
  dims: number[];
  /** album of each row */
  cls: Int32Array;
  /** rows whose album is known and may be used */
  labelled: ArrayLike<number>;
  /** per branch: row-major outputs of unlabelled library photos (the self-training pool), m × D */
  library?: Float32Array[];
}

export interface AlbumInit {
  /** per branch, row-major D × D */
  M: Float64Array[];
  /**
   * the same fit (album photos and the library photos self-training found) with another stretch β: the
   * guard tempers β without fitting again
   */
  withEmphasis: (emphasis: number) => Float64Array[];
  /** library photos that joined an album in step 3 (index into the library pool) */
  pseudo: { index: number; album: number }[];
}

/** Each d-long row of y, as a unit Float64 row. */
function normalizedRows(y: Float32Array, d: number): Float64Array {
  return l2NormalizeRows(Float64Array.from(y), y.length / d, d);
}

/** Σ_k f(λ_k) v_k v_kᵀ over the first `count` eigenpairs (rows of `vectors`). */
function spectral(
  values: Float64Array,
  vectors: Float64Array,
  d: number,
  count: number,
  f: (lambda: number) => number,
): Float64Array {
  const out = new Float64Array(d * d);
  for (let k = 0; k < count; k++) {
    const s = f(values[k]);
    if (s === 0) continue;
    const v = vectors.subarray(k * d, k * d + d);
    for (let i = 0; i < d; i++) {
      const vi = v[i] * s;
      for (let j = 0; j < d; j++) out[i * d + j] += vi * v[j];
    }
  }
  return out;
}

/** M z for each row of z (n × d), into out. */
function applyRows(m: Float64Array, z: Float64Array, d: number): Float64Array {
  const out = new Float64Array(z.length);
  for (let o = 0; o < z.length; o += d)
    for (let i = 0; i < d; i++) {
      let s = 0;
      const row = i * d;
      for (let j = 0; j < d; j++) s += m[row + j] * z[o + j];
      out[o + i] = s;
    }
  return out;
}

/**
 * Step 1: M₁ = S^(−p) with S = (1 − α)·S_w/(tr S_w/d) + α·I, S_w the scatter of the rows around their
 * album means. With fewer rows than dimensions (small albums, or a 768-d head on a small library), S_w
 * has rank r < d, and S^(−p) = α^(−p)·I + Σ_k ((s·μ_k + α)^(−p) − α^(−p)) v_k v_kᵀ comes from the r × r
 * Gram matrix of the centred rows (v = X u/√μ) in O(d·r² + r³ + d²·r) instead of a d × d decomposition.
 */
export function withinWhitening(
  z: Float64Array,
  d: number,
  groups: number[][],
  means: Float64Array[],
  o: AlbumInitOptions,
): Float64Array {
  const r = groups.reduce((a, g) => a + g.length, 0);
  const X = new Float64Array(r * d); // centred rows, row-major r × d
  let k = 0;
  let trace = 0;
  groups.forEach((g, gi) => {
    for (const row of g) {
      for (let i = 0; i < d; i++) {
        const v = z[row * d + i] - means[gi][i];
        X[k * d + i] = v;
        trace += v * v;
      }
      k++;
    }
  });
  const scale = trace > 0 ? (1 - o.shrinkage) / (trace / d) : 0;
  if (2 * r >= d) {
    const sw = new Float64Array(d * d);
    for (let q = 0; q < r; q++) {
      const xo = q * d;
      for (let i = 0; i < d; i++) {
        const xi = X[xo + i] * scale;
        if (xi === 0) continue;
        for (let j = 0; j < d; j++) sw[i * d + j] += xi * X[xo + j];
      }
    }
    for (let i = 0; i < d; i++) sw[i * d + i] += o.shrinkage;
    const w = symmetricEigen(sw, d);
    return spectral(w.values, w.vectors, d, d, (l) => Math.pow(Math.max(l, 1e-9), -o.power));
  }
  const { values, vectors } = eigenOfRows(X, r, d);
  const alpha = Math.max(o.shrinkage, 1e-9);
  const base = Math.pow(alpha, -o.power);
  const m1 = new Float64Array(d * d);
  for (let i = 0; i < d; i++) m1[i * d + i] = base;
  for (let q = 0; q < values.length; q++) {
    const mu = values[q];
    const v = vectors.subarray(q * d, (q + 1) * d);
    const f = Math.pow(scale * mu + alpha, -o.power) - base;
    for (let i = 0; i < d; i++) {
      const fi = f * v[i];
      if (fi !== 0) for (let j = 0; j < d; j++) m1[i * d + j] += fi * v[j];
    }
  }
  return m1;
}

/** Steps 1–2 for one branch, from unit rows z (n × d) with album labels (−1 = none) on `rows`. */
function branchMatrix(
  z: Float64Array,
  d: number,
  rows: number[],
  cls: ArrayLike<number>,
  libraryMean: Float64Array,
  o: AlbumInitOptions,
): BranchFit {
  const groups = new Map<number, number[]>();
  for (const r of rows) {
    const g = groups.get(cls[r]);
    if (g) g.push(r);
    else groups.set(cls[r], [r]);
  }
  const means: Float64Array[] = [];
  for (const g of groups.values()) {
    const m = new Float64Array(d);
    for (const r of g) for (let i = 0; i < d; i++) m[i] += z[r * d + i] / g.length;
    means.push(m);
  }
  const m1 = withinWhitening(z, d, [...groups.values()], means, o);
  const dirs: BranchFit['dirs'] = [];
  if (means.length < 2) return { m1, dirs };

  // Between-album scatter in M₁-space, around the library mean: S_b = A Aᵀ with A = [m_c − g] (d × K),
  // of rank ≤ K. Its eigenvectors come from the small K × K Gram matrix AᵀA (v = A u / √λ), so a
  // 768-d head (small libraries) does not pay for a second d × d eigen-decomposition.
  const g = applyRows(m1, libraryMean, d);
  const K = means.length;
  const cols = means.map((mc) => {
    const t = applyRows(m1, mc, d);
    for (let i = 0; i < d; i++) t[i] -= g[i];
    return t;
  });
  const A = new Float64Array(K * d);
  cols.forEach((col, a) => A.set(col, a * d));
  const between = eigenOfRows(A, K, d);
  const count = Math.min(K, d);
  let top = 0;
  for (const lambda of between.values) top += Math.max(lambda, 0);
  const mean = top / count || 1;
  for (let k = 0; k < between.values.length; k++) {
    const lambda = between.values[k];
    if (!(lambda > 1e-12 * (top || 1))) continue;
    const v = between.vectors.slice(k * d, (k + 1) * d);
    const vm = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      const vi = v[i];
      if (vi !== 0) for (let j = 0; j < d; j++) vm[j] += vi * m1[i * d + j];
    }
    dirs.push({ v, vm, c: Math.sqrt(lambda / mean) });
  }
  return { m1, dirs };
}

/** Step 1–2's result for one branch: M₁ and the discriminant directions, so that β can change cheaply. */
interface BranchFit {
  m1: Float64Array;
  /** v_k, v_kᵀM₁, and √(λ_k/λ̄) */
  dirs: { v: Float64Array; vm: Float64Array; c: number }[];
}

/** M = (I + Σ_k s_k v_k v_kᵀ) M₁ = M₁ + Σ_k s_k v_k (v_kᵀ M₁), s_k = min(β√(λ_k/λ̄), cap): O(d²K). */
function stretched(fit: BranchFit, d: number, emphasis: number, cap = Infinity): Float64Array {
  const m = Float64Array.from(fit.m1);
  if (emphasis === 0) return m;
  for (const { v, vm, c } of fit.dirs) {
    const s = Math.min(emphasis * c, cap);
    for (let i = 0; i < d; i++) {
      const f = s * v[i];
      if (f !== 0) for (let j = 0; j < d; j++) m[i * d + j] += f * vm[j];
    }
  }
  return m;
}

/**
 * Embeddings under per-branch matrices (for the self-training step): the candidate head in the output
 * space (W = M, no centring) through the head's one forward pass.
 */
function embedAll(z: Float64Array[], dims: number[], M: Float64Array[]): Float32Array {
  const n = z[0].length / dims[0];
  const head: LinearHead = {
    combine: 'concat',
    branches: dims.map((d, b) => ({
      inDim: d,
      outDim: d,
      mean: new Float32Array(d),
      weight: Float32Array.from(M[b]),
    })),
  };
  return embedRows(
    head,
    z.map((zb) => Float32Array.from(zb)),
    n,
  );
}

/**
 * Library rows (offset by `first` in the joint row numbering) whose `k` nearest labelled rows share an
 * album, the k-th similarity above `threshold`: returns [row, album] pairs.
 */
function pseudoLabels(
  emb: Float32Array,
  dim: number,
  labelled: number[],
  cls: ArrayLike<number>,
  first: number,
  n: number,
  k: number,
  threshold: number,
): [number, number][] {
  const out: [number, number][] = [];
  for (let r = first; r < n; r++) {
    const top = new TopK(k);
    const ro = r * dim;
    for (const l of labelled) {
      const lo = l * dim;
      let s = 0;
      for (let i = 0; i < dim; i++) s += emb[ro + i] * emb[lo + i];
      top.push(l, s);
    }
    const nearest = top.items;
    if (nearest.length < k || nearest[k - 1].score <= threshold) continue;
    const album = cls[nearest[0].id];
    if (nearest.every((h) => cls[h.id] === album)) out.push([r, album]);
  }
  return out;
}

export function albumInit(input: AlbumInitInput, options: Partial<AlbumInitOptions> = {}): AlbumInit {
  const o = { ...ALBUM_INIT_DEFAULTS, ...options };
  const { dims } = input;
  const n = input.cls.length;
  const m = input.library ? input.library[0].length / dims[0] : 0;
  // one row numbering: album photos first, then the library pool
  const z = dims.map((d, b) => {
    const rows = new Float64Array((n + m) * d);
    rows.set(normalizedRows(input.y[b], d));
    if (m) rows.set(normalizedRows(input.library![b], d), n * d);
    return rows;
  });
  const cls = new Int32Array(n + m).fill(-1);
  cls.set(input.cls);
  const labelled = Array.from(input.labelled);
  // the library mean: of the pool, else 0 (the current head is centred on the library's mean)
  const libMeans = dims.map((d, b) => {
    const g = new Float64Array(d);
    for (let r = n; r < n + m; r++) for (let i = 0; i < d; i++) g[i] += z[b][r * d + i] / m;
    return g;
  });
  const fitAll = (rows: number[]) => dims.map((d, b) => branchMatrix(z[b], d, rows, cls, libMeans[b], o));
  const matrices = (fits: BranchFit[], emphasis: number) =>
    fits.map((f, b) => stretched(f, dims[b], emphasis, o.stretchCap));
  let fits = fitAll(labelled);
  const fit = (rows: number[]) => {
    fits = fitAll(rows);
    return matrices(fits, o.emphasis);
  };
  let M = matrices(fits, o.emphasis);
  let pseudo: AlbumInit['pseudo'] = [];
  if (m && o.pseudoK > 0) {
    const total = dims.reduce((a, b) => a + b, 0);
    let anchors = labelled;
    for (let round = 0; round < o.pseudoRounds; round++) {
      const emb = embedAll(z, dims, M);
      const found = pseudoLabels(emb, total, anchors, cls, n, n + m, o.pseudoK, o.pseudoThreshold).filter(
        ([r]) => cls[r] < 0,
      );
      if (!found.length) break;
      for (const [r, c] of found) cls[r] = c;
      pseudo = [...pseudo, ...found.map(([r, album]) => ({ index: r - n, album }))];
      anchors = [...anchors, ...found.map(([r]) => r)];
      M = fit(anchors);
    }
  }
  const last = fits;
  return { M, pseudo, withEmphasis: (emphasis) => matrices(last, emphasis) };
}
