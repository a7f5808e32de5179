/**
 * P×m batch sampler: each batch holds m photos of each of P albums, so that every anchor of the
 * batch-hard triplet loss has positives and negatives. Albums and photos are cycled in seeded random
 * order, so every training photo is seen about once per epoch.
 */
import { type Rng, shuffleInPlace } from './rng';

export class AlbumBatchSampler {
  private readonly byClass: number[][];
  private readonly cursor: number[];
  private classOrder: number[] = [];
  private classPos = 0;
  readonly batchSize: number;
  readonly p: number;

  /** `labels[i]` is the class of item i; classes with fewer than 2 items are never sampled. */
  constructor(
    labels: ArrayLike<number>,
    p: number,
    readonly m: number,
    private readonly rng: Rng,
  ) {
    const groups = new Map<number, number[]>();
    for (let i = 0; i < labels.length; i++) {
      const g = groups.get(labels[i]);
      if (g) g.push(i);
      else groups.set(labels[i], [i]);
    }
    this.byClass = [...groups.values()].filter((g) => g.length >= 2);
    if (this.byClass.length < 2) throw new Error('the sampler needs at least 2 classes with 2 or more items');
    for (const g of this.byClass) shuffleInPlace(g, rng);
    this.cursor = this.byClass.map(() => 0);
    this.p = Math.min(p, this.byClass.length);
    this.batchSize = this.p * m;
  }

  /** Batches that make one pass over the data (at least `min`: tiny album sets still get real epochs). */
  batchesPerEpoch(min = 1): number {
    const n = this.byClass.reduce((a, g) => a + g.length, 0);
    return Math.max(min, Math.round(n / this.batchSize));
  }

  /** Fills `out` with item indices (batchSize of them) and returns that count. */
  next(out: Int32Array): number {
    let w = 0;
    for (let c = 0; c < this.p; c++) {
      if (this.classPos >= this.classOrder.length) {
        this.classOrder = shuffleInPlace(
          this.byClass.map((_, i) => i),
          this.rng,
        );
        this.classPos = 0;
      }
      const ci = this.classOrder[this.classPos++];
      const g = this.byClass[ci];
      for (let j = 0; j < this.m; j++) {
        if (this.cursor[ci] >= g.length) {
          shuffleInPlace(g, this.rng);
          this.cursor[ci] = 0;
        }
        out[w++] = g[this.cursor[ci]++];
      }
    }
    return w;
  }
}
