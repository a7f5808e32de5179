/** Retrieval metrics, computed the way the datasets' own protocols define them. */

/** Cosine similarity matrix of L2-normalised vectors (row-major n × n). */
export function similarityMatrix(vectors: Float32Array[]): Float32Array {
  const n = vectors.length;
  const d = vectors[0].length;
  const sim = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const a = vectors[i];
    for (let j = i; j < n; j++) {
      const b = vectors[j];
      let s = 0;
      for (let k = 0; k < d; k++) s += a[k] * b[k];
      sim[i * n + j] = s;
      sim[j * n + i] = s;
    }
  }
  return sim;
}

/** Indices of all items except `q`, best first. */
export function ranking(sim: Float32Array, n: number, q: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i).filter((i) => i !== q);
  order.sort((a, b) => sim[q * n + b] - sim[q * n + a]);
  return order;
}

/** Holidays' AP: the trapezoid rule of the official evaluation script. */
export function holidaysAP(ranked: number[], positives: Set<number>): number {
  const ranks: number[] = [];
  ranked.forEach((id, r) => positives.has(id) && ranks.push(r));
  const step = 1 / positives.size;
  let ap = 0;
  ranks.forEach((rank, ntp) => {
    const p0 = rank === 0 ? 1 : ntp / rank;
    const p1 = (ntp + 1) / (rank + 1);
    ap += ((p0 + p1) * step) / 2;
  });
  return ap;
}

export interface HolidaysScores {
  mAP: number;
  r1: number;
  r10: number;
}

export function evalHolidays(
  vectors: Float32Array[],
  queries: { query: number; positives: number[] }[],
): HolidaysScores {
  const n = vectors.length;
  const sim = similarityMatrix(vectors);
  return holidaysScores(queries.map((q) => ({ ranked: ranking(sim, n, q.query), positives: q.positives })));
}

/** Holidays metrics of ranked lists (the query itself left out; a list may stop early). */
export function holidaysScores(lists: { ranked: number[]; positives: number[] }[]): HolidaysScores {
  let ap = 0;
  let r1 = 0;
  let r10 = 0;
  for (const { ranked, positives } of lists) {
    const pos = new Set(positives);
    ap += holidaysAP(ranked, pos);
    if (pos.has(ranked[0])) r1++;
    if (ranked.slice(0, 10).some((i) => pos.has(i))) r10++;
  }
  const m = lists.length;
  return { mAP: (100 * ap) / m, r1: (100 * r1) / m, r10: (100 * r10) / m };
}

export interface ClassScores {
  r1: number;
  r2: number;
  r4: number;
  r8: number;
  mapAtR: number;
}

/**
 * Class-format protocol: every item (or each of `queryIdx`) queries all others; Recall@K as in
 * metric-learning papers, and mAP@R (R = number of other items of the query's class).
 */
export function evalClasses(vectors: Float32Array[], labels: string[], queryIdx?: number[]): ClassScores {
  const n = vectors.length;
  const sim = similarityMatrix(vectors);
  const qs = queryIdx ?? Array.from({ length: n }, (_, i) => i);
  return classScores(
    qs.map((q) => ({ query: q, ranked: ranking(sim, n, q) })),
    labels,
  );
}

/**
 * Class metrics of ranked lists over the items `labels` names (others ignored); a list may stop early
 * (mAP@R then counts the missing ones as misses).
 */
export function classScores(
  lists: { query: number; ranked: number[] }[],
  labels: (string | undefined)[],
): ClassScores {
  const counts = new Map<string, number>();
  for (const l of labels) if (l !== undefined) counts.set(l, (counts.get(l) ?? 0) + 1);
  const hits = { r1: 0, r2: 0, r4: 0, r8: 0 };
  let mapr = 0;
  for (const { query: q, ranked } of lists) {
    const same = (i: number) => labels[i] === labels[q];
    const firstHit = ranked.findIndex(same);
    if (firstHit === 0) hits.r1++;
    if (firstHit >= 0 && firstHit < 2) hits.r2++;
    if (firstHit >= 0 && firstHit < 4) hits.r4++;
    if (firstHit >= 0 && firstHit < 8) hits.r8++;
    const R = counts.get(labels[q]!)! - 1;
    if (R > 0) {
      let tp = 0;
      let ap = 0;
      for (let r = 0; r < Math.min(R, ranked.length); r++) {
        if (same(ranked[r])) {
          tp++;
          ap += tp / (r + 1);
        }
      }
      mapr += ap / R;
    }
  }
  const m = lists.length;
  return {
    r1: (100 * hits.r1) / m,
    r2: (100 * hits.r2) / m,
    r4: (100 * hits.r4) / m,
    r8: (100 * hits.r8) / m,
    mapAtR: (100 * mapr) / m,
  };
}
