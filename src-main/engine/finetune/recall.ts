/**
 * Recall@1 on row-major L2-normalised descriptors: a query is correct when its nearest other item
 * (by dot product) has the same label. Returns per-query outcomes too, for the paired adoption test.
 */
export function recallAt1(
  emb: Float32Array,
  dim: number,
  labels: ArrayLike<number>,
  queries: ArrayLike<number>,
  /** candidate items; all rows when omitted */
  gallery?: ArrayLike<number>,
): { r1: number; correct: Uint8Array } {
  const n = emb.length / dim;
  const correct = new Uint8Array(queries.length);
  let hits = 0;
  for (let qi = 0; qi < queries.length; qi++) {
    const q = queries[qi];
    const qo = q * dim;
    let best = -Infinity;
    let bestIdx = -1;
    const m = gallery ? gallery.length : n;
    for (let gi = 0; gi < m; gi++) {
      const g = gallery ? gallery[gi] : gi;
      if (g === q) continue;
      const go = g * dim;
      let s = 0;
      for (let k = 0; k < dim; k++) s += emb[qo + k] * emb[go + k];
      if (s > best) {
        best = s;
        bestIdx = g;
      }
    }
    if (bestIdx >= 0 && labels[bestIdx] === labels[q]) {
      correct[qi] = 1;
      hits++;
    }
  }
  return { r1: queries.length ? hits / queries.length : 0, correct };
}

/** One-sided sign test: P(X ≥ wins) for X ~ Binomial(wins + losses, ½). */
export function signTestP(wins: number, losses: number): number {
  const n = wins + losses;
  if (n === 0) return 1;
  let p = 0;
  // log-space binomial terms, exact enough for n in the thousands
  let logC = 0; // log C(n, 0)
  for (let k = 0; k <= n; k++) {
    if (k > 0) logC += Math.log(n - k + 1) - Math.log(k);
    if (k >= wins) p += Math.exp(logC - n * Math.LN2);
  }
  return Math.min(1, p);
}

/**
 * Recall@1 and per-query average precision over the gallery (positives = same label, the query itself
 * excluded) in one pass. AP is smoother than Recall@1 on a few dozen held-out photos, so it picks the
 * epoch and powers the adoption test. Ranks are counted per positive (O(gallery × positives)), no sort.
 */
export function rankingQuality(
  emb: Float32Array,
  dim: number,
  labels: ArrayLike<number>,
  queries: ArrayLike<number>,
  gallery: ArrayLike<number>,
): { r1: number; mAP: number; ap: Float64Array } {
  const ap = new Float64Array(queries.length);
  const sims = new Float64Array(gallery.length);
  const pos = new Float64Array(gallery.length);
  let hits1 = 0;
  let apSum = 0;
  for (let qi = 0; qi < queries.length; qi++) {
    const q = queries[qi];
    const qo = q * dim;
    const lq = labels[q];
    let m = 0;
    let np = 0;
    let best = -Infinity;
    let bestPos = false;
    for (let gi = 0; gi < gallery.length; gi++) {
      const g = gallery[gi];
      if (g === q) continue;
      const go = g * dim;
      let s = 0;
      for (let k = 0; k < dim; k++) s += emb[qo + k] * emb[go + k];
      sims[m++] = s;
      const isPos = labels[g] === lq;
      if (isPos) pos[np++] = s;
      if (s > best) {
        best = s;
        bestPos = isPos;
      }
    }
    if (bestPos) hits1++;
    if (np > 0) {
      const ps = pos.subarray(0, np).sort().reverse();
      let sum = 0;
      for (let j = 0; j < np; j++) {
        let above = 0;
        for (let t = 0; t < m; t++) if (sims[t] > ps[j]) above++;
        sum += (j + 1) / Math.max(above + 1, j + 1);
      }
      ap[qi] = sum / np;
    }
    apSum += ap[qi];
  }
  const nq = queries.length || 1;
  return { r1: hits1 / nq, mAP: apSum / nq, ap };
}
