/**
 * The guard for the photos nobody labelled: how much a candidate head reorders the rest of the library.
 * On a sample of library photos (album photos excluded), each photo's k nearest neighbours within the
 * sample are listed under the current head and under the candidate; the guard's figure is the mean share
 * of each list that survives. A head that learns the albums while keeping the library's own structure
 * changes few of these lists; one that stretches the album directions until they dominate every distance
 * (the discriminant stretch at large β) reshuffles them, and that is what cost the never-labelled classes
 * their Recall@1 on Caltech-101 class splits (docs/finetune.md, "Guard").
 */
import type { Pooled } from '../head/head-types';
import { HeadNet, prepareInputs, type HeadModel } from './head-model';

/** Row indices of each row's k nearest other rows (by dot product), row-major n × k, best first. */
export function nearestLists(emb: Float32Array, dim: number, n: number, k: number): Int32Array {
  const kk = Math.min(k, n - 1);
  const out = new Int32Array(n * kk);
  const ids = new Int32Array(kk);
  const sims = new Float64Array(kk);
  for (let q = 0; q < n; q++) {
    let filled = 0;
    const qo = q * dim;
    for (let g = 0; g < n; g++) {
      if (g === q) continue;
      const go = g * dim;
      let s = 0;
      for (let i = 0; i < dim; i++) s += emb[qo + i] * emb[go + i];
      // insertion into the sorted (descending) list: at its end while it fills, then over its last
      let j: number;
      if (filled < kk) j = filled++;
      else if (s > sims[kk - 1]) j = kk - 1;
      else continue;
      while (j > 0 && sims[j - 1] < s) {
        sims[j] = sims[j - 1];
        ids[j] = ids[j - 1];
        j--;
      }
      sims[j] = s;
      ids[j] = g;
    }
    out.set(ids, q * kk);
  }
  return out;
}

/** Per row, the share of `a`'s list that is also in `b`'s (both n × k); and its mean. */
export function listOverlap(a: Int32Array, b: Int32Array, n: number): { mean: number; perRow: Float32Array } {
  const k = a.length / Math.max(1, n);
  const perRow = new Float32Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) {
    let same = 0;
    for (let i = 0; i < k; i++) {
      const x = a[r * k + i];
      for (let j = 0; j < k; j++)
        if (b[r * k + j] === x) {
          same++;
          break;
        }
    }
    perRow[r] = k ? same / k : 1;
    sum += perRow[r];
  }
  return { mean: n ? sum / n : 1, perRow };
}

/** Evenly spaced rows of 0..total−1, at most `max` (deterministic: the same library gives the same sample). */
export function evenSample(total: number, max: number): number[] {
  if (total <= max) return Array.from({ length: total }, (_, i) => i);
  const stride = total / max;
  return Array.from({ length: max }, (_, i) => Math.floor(i * stride));
}

export interface GuardFigures {
  /** library photos the figure is measured on */
  photos: number;
  k: number;
  /** mean share of each photo's k nearest library neighbours that the candidate keeps (0..1) */
  overlap: number;
  /** the least overlap the guard accepts */
  minOverlap: number;
  passed: boolean;
  /** the stretch β the album initialisation ended up with (tempered from the option's value when needed) */
  emphasis?: number;
}

/**
 * The guard's sample and its neighbour lists under the current head, computed once per run; `overlap`
 * then measures any candidate (a model in input form, any architecture but B) against them.
 */
export class LibraryGuard {
  private readonly sample: Pooled[];
  private readonly baseLists: Int32Array;
  private preparedCgd: Float32Array[] | null = null;

  constructor(
    current: HeadModel,
    library: readonly Pooled[],
    readonly k: number,
    maxPhotos: number,
    readonly minOverlap: number,
  ) {
    this.sample = evenSample(library.length, maxPhotos).map((i) => library[i]);
    this.baseLists = this.lists(current);
  }

  get photos(): number {
    return this.sample.length;
  }

  private lists(model: HeadModel): Int32Array {
    const n = this.sample.length;
    const inputs =
      model.arch === 'B'
        ? prepareInputs(model, this.sample)
        : (this.preparedCgd ??= prepareInputs(model, this.sample));
    const net = new HeadNet(model, 0, 256);
    return nearestLists(net.embedAll(inputs, n), net.outDim, n, this.k);
  }

  /** Mean share of the current head's k-nearest lists that `candidate` keeps. */
  overlap(candidate: HeadModel): number {
    return listOverlap(this.baseLists, this.lists(candidate), this.sample.length).mean;
  }

  figures(candidate: HeadModel, emphasis?: number): GuardFigures {
    const overlap = this.overlap(candidate);
    return {
      photos: this.sample.length,
      k: this.k,
      overlap,
      minOverlap: this.minOverlap,
      passed: overlap >= this.minOverlap,
      ...(emphasis !== undefined ? { emphasis } : {}),
    };
  }
}
