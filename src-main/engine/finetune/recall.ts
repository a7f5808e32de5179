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

/**
 * One-sided Wilcoxon signed-rank test that the paired differences `d` lean positive: P(W⁺ ≥ observed)
 * under the null of symmetric differences around 0. Zeros (|d| ≤ eps) are dropped; tied magnitudes get
 * their mean rank. Exact (a count over all sign patterns, on doubled ranks) up to 400 differences, else
 * the normal approximation with the tie correction. Unlike the sign test it weighs how much each photo
 * moved, so a few dozen photos can show a clear gain.
 */
export function signedRankP(d: ArrayLike<number>, eps = 1e-9): number {
  const mags: { m: number; pos: boolean }[] = [];
  for (let i = 0; i < d.length; i++)
    if (Math.abs(d[i]) > eps) mags.push({ m: Math.abs(d[i]), pos: d[i] > 0 });
  const n = mags.length;
  if (n === 0) return 1;
  mags.sort((a, b) => a.m - b.m);
  // doubled mid-ranks (integers): a tie group over ranks i+1..j gets (i+1+j) each
  const r2 = new Int32Array(n);
  let tieTerm = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && mags[j + 1].m - mags[i].m <= eps) j++;
    for (let k = i; k <= j; k++) r2[k] = i + 1 + (j + 1);
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  let w2 = 0; // doubled W⁺
  for (let k = 0; k < n; k++) if (mags[k].pos) w2 += r2[k];
  const total2 = n * (n + 1);
  if (n <= 400) {
    // counts[s] = number of sign patterns with doubled W⁺ = s, as probabilities (each pattern 2^-n)
    let dist = new Float64Array(total2 + 1);
    dist[0] = 1;
    let reach = 0;
    for (let k = 0; k < n; k++) {
      const next = new Float64Array(total2 + 1);
      for (let s = 0; s <= reach; s++) {
        const p = dist[s] * 0.5;
        if (p === 0) continue;
        next[s] += p;
        next[s + r2[k]] += p;
      }
      reach += r2[k];
      dist = next;
    }
    let p = 0;
    for (let s = w2; s <= total2; s++) p += dist[s];
    return Math.min(1, p);
  }
  const varW = (n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48; // of W⁺, with the tie correction
  const z = (w2 / 2 - total2 / 4 - 0.5) / Math.sqrt(Math.max(varW, 1e-12));
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Complementary error function (Numerical Recipes' erfcc, relative error < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851513 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
