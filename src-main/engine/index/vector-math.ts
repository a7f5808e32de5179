/** Small dense-vector helpers shared by the index and the queries. */

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** One L2 normalisation for the head, the index and the queries (in place). */
export { l2normalize } from '../head/project';

export interface Neighbor {
  id: number;
  /** cosine similarity (vectors are L2-normalised, so the inner product) */
  score: number;
}

/** Keeps the k best (highest score) items seen so far; simple insertion for small k. */
export class TopK {
  readonly items: Neighbor[] = [];
  constructor(private readonly k: number) {}

  push(id: number, score: number): void {
    const it = this.items;
    if (it.length === this.k && score <= it[it.length - 1].score) return;
    let i = it.length;
    if (it.length < this.k) it.push({ id, score });
    else i = it.length - 1;
    while (i > 0 && it[i - 1].score < score) {
      it[i] = it[i - 1];
      i--;
    }
    it[i] = { id, score };
  }
}
