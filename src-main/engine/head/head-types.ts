/**
 * The CGD head as data. The backbone (frozen, expensive) yields three raw pooled vectors per photo;
 * the head (cheap, trainable, versioned in the database) turns them into the embedding:
 *   x_i = ρ(f_i) / ‖ρ(f_i)‖₂          ρ = signed power (branch.power; 1 = identity), a fixed input step
 *   Φ_i = W_i (x_i − μ_i) / ‖·‖₂      for each branch i in `combo` order
 *   Ψ   = concat(Φ) / ‖·‖₂
 * project.ts computes all of it, for serving and training alike.
 */
export type BranchKind = 'S' | 'M' | 'G';
export const BRANCH_KINDS: readonly BranchKind[] = ['S', 'M', 'G'];

/** Raw pooled descriptors of one photo, each of the backbone's channel count C. */
export interface Pooled {
  S: Float32Array;
  M: Float32Array;
  G: Float32Array;
}

/** The linear part of a branch: what the forward pass computes with (and the trainer learns). */
export interface LinearBranch {
  /** input size (backbone channels) */
  inDim: number;
  /** output size of this branch */
  outDim: number;
  /** centering applied before W (PCA mean); length inDim */
  mean: Float32Array;
  /** row-major outDim × inDim projection */
  weight: Float32Array;
}

/** Branches and how they combine: the concatenation of the paper (default) or a sum (ablation only). */
export interface LinearHead {
  branches: readonly LinearBranch[];
  combine: 'concat' | 'sum';
}

export interface HeadBranch extends LinearBranch {
  kind: BranchKind;
  /**
   * Optional element-wise power applied to the raw vector before centering
   * (signed power normalisation, 1 = none). Part of the head so it is learned/stored with it.
   */
  power: number;
}

export interface HeadWeights extends LinearHead {
  /** branch letters in order, e.g. "SMG"; the first branch carries the classifier when training */
  combo: string;
  branches: HeadBranch[];
}

export function headOutDim(h: LinearHead): number {
  return h.combine === 'sum' ? h.branches[0].outDim : h.branches.reduce((a, b) => a + b.outDim, 0);
}
