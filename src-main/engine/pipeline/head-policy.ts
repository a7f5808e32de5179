import type { HeadRow } from '../store/types';

/**
 * When the engine (re)learns its unsupervised head. One place for the numbers:
 * - from the first photos until WHITEN_MIN_PHOTOS: an identity head centred on the library's mean
 *   (re-centred each time the library doubles). Uncentred, unrelated photos score 0.95+ against each
 *   other, which breaks thresholds (duplicates) and ranking alike;
 * - then a PCA-whitening head (whitening.ts DEFAULT_HEAD) learned on the library, re-learned each time
 *   the library has grown by RELEARN_GROWTH× since the last one;
 * - a head fine-tuned on albums ('trained') is never replaced automatically.
 *
 * Measured on INRIA Holidays (535 photos, SMG, C = 768), mAP: identity 0.611 · PCA-128 learned on 50
 * photos 0.625, on 100 0.560, on 200 0.645, on 535 0.775. With far fewer photos than channels the
 * whitening is unstable (on a 66-photo subset PCA-on-50 fell to 0.36 against identity's 0.65), hence 200.
 */
export const WHITEN_MIN_PHOTOS = 200;
export const RELEARN_GROWTH = 2;
/** the first centring waits for a few photos, so that one photo's mean is not "the library" */
export const CENTRE_MIN_PHOTOS = 8;

export type HeadKind = 'identity' | 'pca' | 'trained';

/** Which unsupervised head to learn now, if any. */
export function nextUnsupervisedHead(
  active: Pick<HeadRow, 'kind' | 'trainedOn'> | undefined,
  indexed: number,
): 'identity' | 'pca' | null {
  if (!active || active.kind === 'trained') return null;
  const grown = indexed >= RELEARN_GROWTH * Math.max(active.trainedOn, 1);
  if (indexed >= WHITEN_MIN_PHOTOS) return active.kind === 'identity' || grown ? 'pca' : null;
  if (active.kind === 'identity' && indexed >= CENTRE_MIN_PHOTOS && grown) return 'identity';
  return null;
}
