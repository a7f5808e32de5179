/**
 * The CGD paper's two losses with their gradients (checked by finite differences in
 * test/unit/finetune-gradients.test.ts). Both write the gradient of the returned (mean) loss into `grad`.
 */

const DIST_EPS = 1e-12;

/**
 * Batch-hard triplet loss: for each anchor, the farthest positive and the nearest negative in the batch,
 * hinge with `margin`. Distances are Euclidean between unit vectors, d = √(2 − 2·a·b), which the gram
 * matrix gives in one pass. Anchors without a positive or a negative in the batch do not count.
 */
export function batchHardTriplet(
  emb: Float32Array,
  rows: number,
  dim: number,
  labels: ArrayLike<number>,
  margin: number,
  grad: Float32Array,
): { loss: number; active: number } {
  grad.fill(0, 0, rows * dim);
  const dist = new Float64Array(rows * rows);
  for (let a = 0; a < rows; a++) {
    const ao = a * dim;
    for (let b = a; b < rows; b++) {
      const bo = b * dim;
      let s = 0;
      for (let k = 0; k < dim; k++) s += emb[ao + k] * emb[bo + k];
      const d = Math.sqrt(Math.max(2 - 2 * s, DIST_EPS));
      dist[a * rows + b] = d;
      dist[b * rows + a] = d;
    }
  }
  let valid = 0;
  let total = 0;
  let active = 0;
  const hits: number[] = []; // a, p, n triples with a positive hinge
  for (let a = 0; a < rows; a++) {
    let pBest = -1;
    let dp = -Infinity;
    let nBest = -1;
    let dn = Infinity;
    for (let b = 0; b < rows; b++) {
      if (b === a) continue;
      const d = dist[a * rows + b];
      if (labels[b] === labels[a]) {
        if (d > dp) {
          dp = d;
          pBest = b;
        }
      } else if (d < dn) {
        dn = d;
        nBest = b;
      }
    }
    if (pBest < 0 || nBest < 0) continue;
    valid++;
    const l = dp - dn + margin;
    if (l > 0) {
      total += l;
      active++;
      hits.push(a, pBest, nBest);
    }
  }
  if (valid === 0) return { loss: 0, active: 0 };
  const scale = 1 / valid;
  for (let h = 0; h < hits.length; h += 3) {
    const a = hits[h];
    const p = hits[h + 1];
    const n = hits[h + 2];
    const dp = dist[a * rows + p];
    const dn = dist[a * rows + n];
    // ∂d(a,b)/∂a = −b/d (zero where the distance is clamped)
    const cp = dp * dp > DIST_EPS ? scale / dp : 0;
    const cn = dn * dn > DIST_EPS ? scale / dn : 0;
    const ao = a * dim;
    const po = p * dim;
    const no = n * dim;
    for (let k = 0; k < dim; k++) {
      grad[ao + k] += -cp * emb[po + k] + cn * emb[no + k];
      grad[po + k] += -cp * emb[ao + k];
      grad[no + k] += cn * emb[ao + k];
    }
  }
  return { loss: total * scale, active };
}

/**
 * Softmax cross-entropy on logits / τ against one-hot targets smoothed by ε:
 * q = (1 − ε)·onehot + ε/K. ε = 0 and τ = 1 give the plain loss.
 */
export function smoothedCrossEntropy(
  logits: Float32Array,
  rows: number,
  numClasses: number,
  labels: ArrayLike<number>,
  temperature: number,
  smoothing: number,
  grad: Float32Array,
): number {
  const K = numClasses;
  const invT = 1 / temperature;
  const off = smoothing / K;
  const on = 1 - smoothing + off;
  let total = 0;
  const scale = 1 / rows;
  for (let r = 0; r < rows; r++) {
    const o = r * K;
    let mx = -Infinity;
    for (let c = 0; c < K; c++) mx = Math.max(mx, logits[o + c] * invT);
    let sum = 0;
    for (let c = 0; c < K; c++) sum += Math.exp(logits[o + c] * invT - mx);
    const logZ = mx + Math.log(sum);
    const y = labels[r];
    for (let c = 0; c < K; c++) {
      const z = logits[o + c] * invT;
      const q = c === y ? on : off;
      const p = Math.exp(z - logZ);
      if (q > 0) total -= q * (z - logZ);
      grad[o + c] = (p - q) * invT * scale;
    }
  }
  return total * scale;
}
