/**
 * Would a newly learned head serve worse than the active one? Judged on the library itself, without
 * labels: the share of photos whose nearest neighbour is mutual (i's nearest is j and j's is i). A head
 * that ranks a photo's true matches first makes such pairs; noise (a whitening learned on too few photos)
 * and hubs (one photo nearest to many) break them. On Holidays subsets of 50–535 photos this rate orders
 * the heads as their mAP does (docs/model.md). A few hundred to a thousand photos suffice, so a large
 * library is judged on an even subsample.
 */
import type { HeadWeights, Pooled } from './head-types';

/** photos the check looks at (its cost is quadratic) */
export const CHECK_SAMPLE = 1500;
/** the candidate may score this many points under the active head and still be taken (ties, noise) */
export const CHECK_TOLERANCE = 0.5;

export interface HeadComparison {
  adopt: boolean;
  /** mutual nearest-neighbour rate, % */
  candidate: number;
  active: number;
}

export function mutualNeighbourRate(vectors: Float32Array[]): number {
  const n = vectors.length;
  if (n < 2) return 0;
  const nearest = new Int32Array(n).fill(-1);
  const best = new Float64Array(n).fill(-Infinity);
  const d = vectors[0].length;
  for (let i = 0; i < n; i++) {
    const a = vectors[i];
    for (let j = i + 1; j < n; j++) {
      const b = vectors[j];
      let s = 0;
      for (let k = 0; k < d; k++) s += a[k] * b[k];
      if (s > best[i]) {
        best[i] = s;
        nearest[i] = j;
      }
      if (s > best[j]) {
        best[j] = s;
        nearest[j] = i;
      }
    }
  }
  let mutual = 0;
  for (let i = 0; i < n; i++) if (nearest[nearest[i]] === i) mutual++;
  return (100 * mutual) / n;
}

/** `project` may be the synchronous JS projector or ONNX Runtime's bulk one (much faster on a library). */
export async function compareHeads(
  candidate: HeadWeights,
  active: HeadWeights,
  library: Pooled[],
  project: (head: HeadWeights, pooled: Pooled[]) => Float32Array[] | Promise<Float32Array[]>,
): Promise<HeadComparison> {
  const stride = Math.max(1, Math.ceil(library.length / CHECK_SAMPLE));
  const sample = library.filter((_, i) => i % stride === 0);
  const c = mutualNeighbourRate(await project(candidate, sample));
  const a = mutualNeighbourRate(await project(active, sample));
  return { adopt: c >= a - CHECK_TOLERANCE, candidate: c, active: a };
}
