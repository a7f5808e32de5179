/**
 * The CGD head as data. The backbone (frozen, expensive) yields three raw pooled vectors per photo;
 * the head (cheap, trainable, versioned in the database) turns them into the embedding:
 *   x_i = ρ(f_i) / ‖ρ(f_i)‖₂          ρ = signed power (branch.power; 1 = identity), a fixed input step
 *   Φ_i = W_i (x_i − μ_i) / ‖·‖₂      for each branch i in `combo` order
 *   Ψ   = concat(Φ) / ‖·‖₂
 * `branchInput()` in project.ts computes x_i; training uses it too, so both agree.
 */
export type BranchKind = 'S' | 'M' | 'G';
export const BRANCH_KINDS: readonly BranchKind[] = ['S', 'M', 'G'];

/** Raw pooled descriptors of one photo, each of the backbone's channel count C. */
export interface Pooled {
  S: Float32Array;
  M: Float32Array;
  G: Float32Array;
}

export interface HeadBranch {
  kind: BranchKind;
  /** input size (backbone channels) */
  inDim: number;
  /** output size of this branch */
  outDim: number;
  /** centering applied before W (PCA mean); length inDim */
  mean: Float32Array;
  /** row-major outDim × inDim projection */
  weight: Float32Array;
  /**
   * Optional element-wise power applied to the raw vector before centering
   * (signed power normalisation, 1 = none). Part of the head so it is learned/stored with it.
   */
  power: number;
}

export interface HeadWeights {
  /** branch letters in order, e.g. "SMG"; the first branch carries the classifier when training */
  combo: string;
  branches: HeadBranch[];
  /** how the branches were combined: the paper's concatenation (default) or a sum (ablation only) */
  combine: 'concat' | 'sum';
}

export function headOutDim(h: HeadWeights): number {
  return h.combine === 'sum' ? h.branches[0].outDim : h.branches.reduce((a, b) => a + b.outDim, 0);
}
