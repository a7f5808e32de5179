/**
 * Learning an unsupervised head (centred identity or PCA-whitening) from the library, and the check that
 * it serves no worse than the active one: the work the head learning worker does (head-learn.worker.ts),
 * and that tests which inject their own head ops run in process. At a few hundred photos or more it takes
 * seconds (an eigen-decomposition per branch, a quadratic neighbour check), which the engine's thread
 * would otherwise spend instead of answering searches.
 */
import type { HeadComparison } from '../head/head-check';
import type { HeadOps } from '../head/head-ops';
import type { HeadWeights, Pooled } from '../head/head-types';
import { centredIdentityHead, DEFAULT_HEAD } from '../head/whitening';
import type { Store } from '../store/store';

/** Learning a whitening head on more photos than this gains nothing measurable and costs memory. */
const MAX_LEARN_SAMPLE = 20_000;

export interface LearnRequest {
  modelId: string;
  kind: 'identity' | 'pca';
  /** the active head, to check the candidate against; null when it has not been learned yet */
  active: HeadWeights | null;
}

export interface LearnedHead {
  weights: HeadWeights;
  /** photos it was learned on */
  sample: number;
  check: HeadComparison | null;
}

/** An even sample of the library's pooled vectors (at most MAX_LEARN_SAMPLE, every stride-th by id). */
export function learnSample(store: Store, modelId: string): Pooled[] {
  const stride = Math.max(1, Math.ceil(store.indexedCount() / MAX_LEARN_SAMPLE));
  const sample: Pooled[] = [];
  let i = 0;
  for (const { pooled } of store.pooledPages(modelId, 2048))
    for (const p of pooled) if (i++ % stride === 0) sample.push(p);
  return sample;
}

/** The candidate head and its check; null when there are too few photos to learn from. */
export async function learnHead(store: Store, req: LearnRequest, ops: HeadOps): Promise<LearnedHead | null> {
  const sample = learnSample(store, req.modelId);
  if (sample.length < 2 || (req.kind === 'pca' && !ops.learnWhiteningHead)) return null;
  const weights =
    req.kind === 'pca' ? ops.learnWhiteningHead!(sample, { ...DEFAULT_HEAD }) : centredIdentityHead(sample);
  const check =
    ops.compareHeads && req.active
      ? await ops.compareHeads(weights, req.active, sample, ops.projectBulk ?? ops.projectBatch)
      : null;
  return { weights, sample: sample.length, check };
}
