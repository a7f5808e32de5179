import type { BranchKind, HeadWeights } from '../head/head-types';
import type { HeadRow } from '../store/types';

/**
 * When the engine (re)learns its unsupervised head. One place for the numbers:
 * - until the library has WHITEN_MIN_PHOTOS indexed photos: the un-whitened head (identity per branch);
 * - then a PCA-whitening head (BRANCH_DIM per branch) learned on the library, re-learned each time the
 *   library has grown by RELEARN_GROWTH× since the last one;
 * - a head fine-tuned on albums ('trained') is never replaced automatically.
 *
 * Measured on INRIA Holidays (535 photos, 500 queries, default backbone, C = 768, SMG), mAP:
 *   identity 0.611 · identity truncated to 128/branch 0.554 · PCA-128 learned on 50 photos 0.625,
 *   on 100 0.560, on 200 0.645, on 535 0.775. With fewer photos than channels the whitening is
 *   unstable (on a 66-photo subset PCA-on-50 fell to 0.36 against identity's 0.65), hence 200, and
 *   the full (untruncated) identity before that: small libraries are searched exactly anyway.
 */
export const WHITEN_MIN_PHOTOS = 200;
export const RELEARN_GROWTH = 2;
export const DEFAULT_COMBO = 'SMG';
/** per branch; 3 × 128 = 384 dimensions in all */
export const BRANCH_DIM = 128;

export type HeadKind = 'identity' | 'pca' | 'trained';

export function shouldLearnWhitening(
  active: Pick<HeadRow, 'kind' | 'trainedOn'> | undefined,
  indexed: number,
): boolean {
  if (!active || active.kind === 'trained') return false;
  if (active.kind === 'identity') return indexed >= WHITEN_MIN_PHOTOS;
  return indexed >= RELEARN_GROWTH * Math.max(active.trainedOn, 1);
}

/** The head used before there is anything to learn from: identity per branch (optionally truncated to `dim`). */
export function unwhitenedHead(channels: number, combo = DEFAULT_COMBO, dim = channels): HeadWeights {
  const out = Math.min(dim, channels);
  return {
    combo,
    combine: 'concat',
    branches: [...combo].map((kind) => {
      const weight = new Float32Array(out * channels);
      for (let r = 0; r < out; r++) weight[r * channels + r] = 1;
      return {
        kind: kind as BranchKind,
        inDim: channels,
        outDim: out,
        mean: new Float32Array(channels),
        weight,
        power: 1,
      };
    }),
  };
}
