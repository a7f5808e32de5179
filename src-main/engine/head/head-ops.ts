import { compareHeads } from './head-check';
import type { HeadWeights, Pooled } from './head-types';
import { projectBatchFast } from './head-session';
import { projectBatch } from './project';
import { learnWhiteningHead, type WhiteningOptions } from './whitening';

/** The head math the engine needs; injectable so tests can stub the (slower) learning step. */
export interface HeadOps {
  /** raw pooled vectors → L2-normalised embeddings (single photos, small batches) */
  projectBatch(head: HeadWeights, pooled: Pooled[]): Float32Array[];
  /**
   * The same, for a head switch's bulk re-projection (ONNX Runtime: ~20× faster on a library);
   * absent → projectBatch is used in smaller chunks.
   */
  projectBulk?(head: HeadWeights, pooled: Pooled[]): Promise<Float32Array[]>;
  /**
   * A head switch re-projects the library in the index's worker thread (ONNX Runtime there), not through
   * projectBulk on the engine's thread; tests that inject their own projector leave it off.
   */
  reprojectInWorker?: boolean;
  /**
   * Heads are learned in a worker thread with these default ops (pipeline/head-learn.worker.ts), not on
   * the engine's thread; tests that inject their own learning leave it off.
   */
  learnInWorker?: boolean;
  /** PCA-whitening head learned on the library; absent → the engine keeps the un-whitened head */
  learnWhiteningHead?(pooled: Pooled[], opts?: WhiteningOptions): HeadWeights;
  /** whether a newly learned head serves no worse than the active one; absent → always adopted */
  compareHeads?: typeof compareHeads;
}

export const DEFAULT_HEAD_OPS: HeadOps = {
  projectBatch,
  projectBulk: projectBatchFast,
  reprojectInWorker: true,
  learnInWorker: true,
  learnWhiteningHead,
  compareHeads,
};
