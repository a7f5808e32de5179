import type { HeadRow } from '../store/types';

/**
 * When the engine (re)learns its unsupervised head. One place for the numbers, chosen by the served
 * benchmark (`npm run bench:quality -- --sizes … --steps …`, docs/model.md):
 * - mid-run, only what a first run cannot wait for: centring on the library's mean once there are
 *   CENTRE_MIN_PHOTOS (uncentred, unrelated photos score 0.95+ against each other, which breaks
 *   thresholds and ranking alike), and on a large first run one whitening at MID_RUN_WHITEN_PHOTOS;
 * - at the end of an indexing run, once the library has grown by RELEARN_GROWTH× since the head was
 *   learned: a PCA-whitening head from WHITEN_MIN_PHOTOS on, the centred identity before — and only if
 *   the library itself says it serves no worse than the active head (head-check.ts);
 * - a head fine-tuned on albums ('trained') is never replaced automatically.
 * So a first run shows at most three or four versions, and a grown library one more per run.
 */
export const CENTRE_MIN_PHOTOS = 8;
export const WHITEN_MIN_PHOTOS = 200;
export const RELEARN_GROWTH = 1.2;
export const MID_RUN_WHITEN_PHOTOS = 2000;

export type HeadKind = 'identity' | 'pca' | 'trained';
export type LearnMoment = 'mid-run' | 'end-of-run';

/** Which unsupervised head to learn now, if any. */
export function nextUnsupervisedHead(
  active: Pick<HeadRow, 'kind' | 'trainedOn'> | undefined,
  indexed: number,
  moment: LearnMoment = 'end-of-run',
): 'identity' | 'pca' | null {
  if (!active || active.kind === 'trained' || indexed < CENTRE_MIN_PHOTOS) return null;
  if (moment === 'mid-run') {
    if (active.trainedOn === 0) return 'identity';
    return active.kind === 'identity' && indexed >= MID_RUN_WHITEN_PHOTOS ? 'pca' : null;
  }
  if (indexed < RELEARN_GROWTH * Math.max(active.trainedOn, 1)) return null;
  return indexed >= WHITEN_MIN_PHOTOS ? 'pca' : 'identity';
}
