/**
 * The CGD head as a trainable network: the head module's forward pass (head/project.ts), run into this
 * network's buffers, and a hand-written backward pass (checked by finite differences in
 * test/unit/finetune-gradients.test.ts). Everything works on row-major Float32Array batches with
 * preallocated workspaces: a training step allocates nothing.
 *
 *   x_i = ρ(f_i)/‖ρ(f_i)‖ − μ_i        z_i = W_i x_i      φ_i = z_i / ‖z_i‖
 *   c = φ_1 ⊕ … ⊕ φ_n  (or Σ φ_i)       ψ = c / ‖c‖
 *   logits = W_c φ_1 + b_c              (the classifier sees the first branch)
 *
 * Architectures (the paper's ablation): 'CGD' as above; 'A' the same network but each φ_i gets its own
 * ranking loss (ψ only at test time); 'B' concatenates the raw descriptors and applies one FC + L2.
 */
import type { BranchKind, HeadWeights, LinearBranch, Pooled } from '../head/head-types';
import { branchInput, embedRows, headForward, linearForward } from '../head/project';

export type Architecture = 'CGD' | 'A' | 'B';
export type Combine = 'concat' | 'sum';

export type ModelBranch = LinearBranch;

export interface HeadModel {
  arch: Architecture;
  combine: Combine;
  /** branch letters of the source head, in order */
  combo: string;
  /** raw descriptor kinds and their powers, per source branch (B reads them all through one branch) */
  kinds: BranchKind[];
  powers: number[];
  branches: ModelBranch[];
}

/** Builds a trainable model from a head (copies every array: the source head is never touched). */
export function modelFromHead(head: HeadWeights, arch: Architecture = 'CGD', combine?: Combine): HeadModel {
  if (head.branches.length === 0) throw new Error('head has no branches');
  const kinds = head.branches.map((b) => b.kind);
  const powers = head.branches.map((b) => b.power);
  const comb: Combine = combine ?? head.combine;
  if (arch === 'B') {
    // One FC over the concatenated raw inputs, initialised block-diagonally from the per-branch heads so
    // that B starts from the same whitening as CGD.
    const inDim = head.branches.reduce((a, b) => a + b.inDim, 0);
    const outDim = head.branches.reduce((a, b) => a + b.outDim, 0);
    const mean = new Float32Array(inDim);
    const weight = new Float32Array(outDim * inDim);
    let ri = 0;
    let ro = 0;
    for (const b of head.branches) {
      mean.set(b.mean, ri);
      for (let o = 0; o < b.outDim; o++) {
        weight.set(b.weight.subarray(o * b.inDim, (o + 1) * b.inDim), (ro + o) * inDim + ri);
      }
      ri += b.inDim;
      ro += b.outDim;
    }
    return {
      arch,
      combine: 'concat',
      combo: head.combo,
      kinds,
      powers,
      branches: [{ inDim, outDim, mean, weight }],
    };
  }
  if (comb === 'sum') {
    const d = head.branches[0].outDim;
    if (head.branches.some((b) => b.outDim !== d)) throw new Error('combine "sum" needs equal branch sizes');
  }
  return {
    arch,
    combine: comb,
    combo: head.combo,
    kinds,
    powers,
    branches: head.branches.map((b) => ({
      inDim: b.inDim,
      outDim: b.outDim,
      mean: Float32Array.from(b.mean),
      weight: Float32Array.from(b.weight),
    })),
  };
}

/** The trained model in the stored head format; null for architecture B, which that format cannot express. */
export function headFromModel(model: HeadModel): HeadWeights | null {
  if (model.arch === 'B') return null;
  return {
    combo: model.combo,
    combine: model.combine,
    branches: model.branches.map((b, i) => ({
      kind: model.kinds[i],
      inDim: b.inDim,
      outDim: b.outDim,
      mean: Float32Array.from(b.mean),
      weight: Float32Array.from(b.weight),
      power: model.powers[i],
    })),
  };
}

export function modelOutDim(model: HeadModel): number {
  return model.combine === 'sum'
    ? model.branches[0].outDim
    : model.branches.reduce((a, b) => a + b.outDim, 0);
}

/**
 * Fixed inputs of the trainable part, one row-major N × inDim matrix per model branch: each raw vector
 * goes through the head's own input step (signed power, then L2 — `branchInput`, shared with
 * projectBatch so training and serving agree). It does not change during training, so it runs once here.
 */
export function prepareInputs(model: HeadModel, pooled: readonly Pooled[]): Float32Array[] {
  const n = pooled.length;
  const out = model.branches.map((b) => new Float32Array(n * b.inDim));
  for (let r = 0; r < n; r++) {
    const p = pooled[r];
    let off = r * model.branches[0].inDim;
    for (let i = 0; i < model.kinds.length; i++) {
      const v = p[model.kinds[i]];
      const bi = model.arch === 'B' ? 0 : i;
      const expected = model.arch === 'B' ? undefined : model.branches[i].inDim;
      if (!v || (expected !== undefined && v.length !== expected)) {
        throw new Error(
          `pooled vector ${r}: descriptor ${model.kinds[i]} has length ${v?.length}, expected ${expected}`,
        );
      }
      if (model.arch !== 'B') off = r * model.branches[i].inDim;
      out[bi].set(branchInput(v, model.powers[i]), off);
      off += v.length;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Primitive ops (exported for the gradient checks)

/** Accumulates gW += dOutᵀ x, gB += Σ dOut; writes dx = dOut W when dx is given. */
export function linearBackward(
  dOut: Float32Array,
  x: Float32Array,
  W: Float32Array,
  rows: number,
  inDim: number,
  outDim: number,
  gW: Float32Array | null,
  gB: Float32Array | null,
  dx: Float32Array | null,
): void {
  if (gB) {
    for (let r = 0; r < rows; r++) for (let o = 0; o < outDim; o++) gB[o] += dOut[r * outDim + o];
  }
  if (gW) {
    // four rows per pass over gW: a quarter of the read-modify-write traffic on the gradient
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      const x0 = r * inDim;
      const x1 = x0 + inDim;
      const x2 = x1 + inDim;
      const x3 = x2 + inDim;
      const oo = r * outDim;
      for (let o = 0; o < outDim; o++) {
        const g0 = dOut[oo + o];
        const g1 = dOut[oo + outDim + o];
        const g2 = dOut[oo + 2 * outDim + o];
        const g3 = dOut[oo + 3 * outDim + o];
        const wo = o * inDim;
        for (let k = 0; k < inDim; k++) {
          gW[wo + k] += g0 * x[x0 + k] + g1 * x[x1 + k] + g2 * x[x2 + k] + g3 * x[x3 + k];
        }
      }
    }
    for (; r < rows; r++) {
      const xo = r * inDim;
      const oo = r * outDim;
      for (let o = 0; o < outDim; o++) {
        const g = dOut[oo + o];
        const wo = o * inDim;
        for (let k = 0; k < inDim; k++) gW[wo + k] += g * x[xo + k];
      }
    }
  }
  if (dx) {
    dx.fill(0, 0, rows * inDim);
    for (let r = 0; r < rows; r++) {
      const xo = r * inDim;
      const oo = r * outDim;
      for (let o = 0; o < outDim; o++) {
        const g = dOut[oo + o];
        const wo = o * inDim;
        for (let k = 0; k < inDim; k++) dx[xo + k] += g * W[wo + k];
      }
    }
  }
}

/** dz = (dy − y (y·dy)) / ‖z‖ : the gradient through an L2 normalisation. */
export function l2NormalizeBackward(
  dy: Float32Array,
  y: Float32Array,
  norms: Float32Array,
  rows: number,
  dim: number,
  dz: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let d = 0;
    for (let k = 0; k < dim; k++) d += y[o + k] * dy[o + k];
    const inv = 1 / norms[r];
    for (let k = 0; k < dim; k++) dz[o + k] = (dy[o + k] - y[o + k] * d) * inv;
  }
}

// ---------------------------------------------------------------------------------------------------------

/** Gradient inputs to HeadNet.backward; null means "no loss on this output". */
export interface HeadGrads {
  dPsi: Float32Array | null;
  /** extra gradient per branch on φ_i (architecture A's per-branch ranking losses) */
  dPhi: (Float32Array | null)[] | null;
  /** gradient on the classifier logits */
  dLogits: Float32Array | null;
}

/**
 * Forward/backward of the head and the classifier for batches of up to maxBatch rows. Parameters are the
 * model's own arrays (updated in place by the optimiser); gradients accumulate into g* until zeroGrads().
 */
export class HeadNet {
  readonly nb: number;
  readonly outDim: number;
  readonly classDim: number;
  readonly classW: Float32Array;
  readonly classB: Float32Array;
  readonly gW: Float32Array[];
  readonly gMu: Float32Array[];
  readonly gClassW: Float32Array;
  readonly gClassB: Float32Array;
  // workspaces
  readonly x: Float32Array[];
  readonly z: Float32Array[];
  readonly phi: Float32Array[];
  readonly norms: Float32Array[];
  readonly comb: Float32Array;
  readonly psi: Float32Array;
  readonly psiNorms: Float32Array;
  readonly logits: Float32Array;
  private readonly dComb: Float32Array;
  private readonly dPhiTmp: Float32Array[];
  private readonly dZ: Float32Array[];
  private readonly dSum: Float32Array[];

  constructor(
    readonly model: HeadModel,
    readonly numClasses: number,
    readonly maxBatch: number,
  ) {
    const br = model.branches;
    this.nb = br.length;
    this.outDim = modelOutDim(model);
    this.classDim = br[0].outDim;
    this.classW = new Float32Array(numClasses * this.classDim);
    this.classB = new Float32Array(numClasses);
    this.gW = br.map((b) => new Float32Array(b.weight.length));
    this.gMu = br.map((b) => new Float32Array(b.inDim));
    this.gClassW = new Float32Array(this.classW.length);
    this.gClassB = new Float32Array(numClasses);
    this.x = br.map((b) => new Float32Array(maxBatch * b.inDim));
    this.z = br.map((b) => new Float32Array(maxBatch * b.outDim));
    this.phi = br.map((b) => new Float32Array(maxBatch * b.outDim));
    this.norms = br.map(() => new Float32Array(maxBatch));
    this.comb = new Float32Array(maxBatch * this.outDim);
    this.psi = new Float32Array(maxBatch * this.outDim);
    this.psiNorms = new Float32Array(maxBatch);
    this.logits = new Float32Array(maxBatch * Math.max(1, numClasses));
    this.dComb = new Float32Array(maxBatch * this.outDim);
    this.dPhiTmp = br.map((b) => new Float32Array(maxBatch * b.outDim));
    this.dZ = br.map((b) => new Float32Array(maxBatch * b.outDim));
    this.dSum = br.map((b) => new Float32Array(b.outDim));
  }

  zeroGrads(): void {
    for (const g of this.gW) g.fill(0);
    for (const g of this.gMu) g.fill(0);
    this.gClassW.fill(0);
    this.gClassB.fill(0);
  }

  /** Runs the head on rows idx[0..rows) of the prepared inputs; fills phi, psi and (optionally) logits. */
  forward(inputs: Float32Array[], idx: ArrayLike<number>, rows: number, withLogits: boolean): void {
    if (rows > this.maxBatch) throw new Error(`batch of ${rows} exceeds ${this.maxBatch}`);
    // the serving forward pass, into this net's buffers (backward reads them)
    headForward(this.model, inputs, idx, rows, this);
    if (withLogits && this.numClasses > 0) {
      linearForward(this.phi[0], this.classW, this.classB, rows, this.classDim, this.numClasses, this.logits);
    }
  }

  /** Accumulates parameter gradients for the last forward() batch. */
  backward(rows: number, grads: HeadGrads, learnMean: boolean): void {
    const D = this.outDim;
    if (grads.dPsi) l2NormalizeBackward(grads.dPsi, this.psi, this.psiNorms, rows, D, this.dComb);
    let off = 0;
    for (let i = 0; i < this.nb; i++) {
      const b = this.model.branches[i];
      const od = b.outDim;
      const dPhi = this.dPhiTmp[i];
      dPhi.fill(0, 0, rows * od);
      if (grads.dPsi) {
        for (let r = 0; r < rows; r++) {
          const co = r * D + (this.model.combine === 'sum' ? 0 : off);
          for (let k = 0; k < od; k++) dPhi[r * od + k] = this.dComb[co + k];
        }
      }
      const extra = grads.dPhi?.[i];
      if (extra) for (let k = 0; k < rows * od; k++) dPhi[k] += extra[k];
      if (i === 0 && grads.dLogits) {
        // classifier: its gradient on φ_1 is added to dPhi, parameters accumulate
        linearBackward(
          grads.dLogits,
          this.phi[0],
          this.classW,
          rows,
          od,
          this.numClasses,
          this.gClassW,
          this.gClassB,
          null,
        );
        const K = this.numClasses;
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < K; c++) {
            const g = grads.dLogits[r * K + c];
            if (g === 0) continue;
            const wo = c * od;
            for (let k = 0; k < od; k++) dPhi[r * od + k] += g * this.classW[wo + k];
          }
        }
      }
      const dZ = this.dZ[i];
      l2NormalizeBackward(dPhi, this.phi[i], this.norms[i], rows, od, dZ);
      linearBackward(dZ, this.x[i], b.weight, rows, b.inDim, od, this.gW[i], null, null);
      if (learnMean) {
        // x = p − μ  ⇒  ∂L/∂μ = −Wᵀ Σ_r dz_r
        const s = this.dSum[i];
        s.fill(0);
        for (let r = 0; r < rows; r++) for (let k = 0; k < od; k++) s[k] += dZ[r * od + k];
        const gMu = this.gMu[i];
        const inD = b.inDim;
        for (let o = 0; o < od; o++) {
          const g = s[o];
          const wo = o * inD;
          for (let k = 0; k < inD; k++) gMu[k] -= g * b.weight[wo + k];
        }
      }
      off += od;
    }
  }

  /** Descriptors ψ of every row of the prepared inputs, N × outDim row-major. */
  embedAll(inputs: Float32Array[], n: number): Float32Array {
    return embedRows(this.model, inputs, n, this, this.maxBatch);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Training in the initial head's output space. With W = M·W₀ (M square, starting at the identity) and
// μ = μ₀ + W₀⁺ν (ν starting at 0), the fixed part y₀ = W₀(x − μ₀) is computed once per photo and each step
// only touches out × out weights instead of out × in (128² instead of 128 × 768): six times less work,
// and far fewer free parameters for a few hundred labelled photos to pin down.

/** y₀ = W₀(x − μ₀) per branch for every row of the prepared inputs (N × outDim each). */
export function projectInputs(model: HeadModel, inputs: Float32Array[], n: number): Float32Array[] {
  return model.branches.map((b, i) => {
    const x = new Float32Array(n * b.inDim);
    const src = inputs[i];
    for (let r = 0; r < n; r++) {
      const o = r * b.inDim;
      for (let k = 0; k < b.inDim; k++) x[o + k] = src[o + k] - b.mean[k];
    }
    const y = new Float32Array(n * b.outDim);
    linearForward(x, b.weight, null, n, b.inDim, b.outDim, y);
    return y;
  });
}

/** The square model (M = I, ν = 0) that trains on projectInputs(base, …). */
export function outputSpaceModel(base: HeadModel): HeadModel {
  return {
    ...base,
    branches: base.branches.map((b) => {
      const weight = new Float32Array(b.outDim * b.outDim);
      for (let o = 0; o < b.outDim; o++) weight[o * b.outDim + o] = 1;
      return { inDim: b.outDim, outDim: b.outDim, mean: new Float32Array(b.outDim), weight };
    }),
  };
}

/** Folds a trained output-space model back onto its base: W = M W₀, μ = μ₀ + W₀ᵀ(W₀W₀ᵀ)⁻¹ν. */
export function composeOutputSpace(base: HeadModel, trained: HeadModel): HeadModel {
  return {
    ...base,
    branches: base.branches.map((b, i) => {
      const t = trained.branches[i];
      const n = b.outDim;
      const inD = b.inDim;
      const weight = new Float32Array(n * inD);
      for (let o = 0; o < n; o++) {
        const ro = o * inD;
        for (let j = 0; j < n; j++) {
          const m = t.weight[o * n + j];
          if (m === 0) continue;
          const wo = j * inD;
          for (let k = 0; k < inD; k++) weight[ro + k] += m * b.weight[wo + k];
        }
      }
      const mean = Float32Array.from(b.mean);
      if (t.mean.some((v) => v !== 0)) {
        const a = solveGram(b.weight, n, inD, t.mean);
        for (let j = 0; j < n; j++) {
          const wo = j * inD;
          for (let k = 0; k < inD; k++) mean[k] += a[j] * b.weight[wo + k];
        }
      }
      return { inDim: inD, outDim: n, mean, weight };
    }),
  };
}

/** Solves (W Wᵀ) a = v for row-major W (n × m, full row rank) by Gaussian elimination with pivoting. */
function solveGram(W: Float32Array, n: number, m: number, v: Float32Array): Float64Array {
  const A = new Float64Array(n * (n + 1));
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < m; k++) s += W[i * m + k] * W[j * m + k];
      A[i * (n + 1) + j] = s;
      A[j * (n + 1) + i] = s;
    }
    A[i * (n + 1) + n] = v[i];
  }
  const w = n + 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r * w + c]) > Math.abs(A[p * w + c])) p = r;
    if (p !== c) for (let k = 0; k < w; k++) [A[c * w + k], A[p * w + k]] = [A[p * w + k], A[c * w + k]];
    const d = A[c * w + c] || 1e-30;
    for (let r = c + 1; r < n; r++) {
      const f = A[r * w + c] / d;
      if (f === 0) continue;
      for (let k = c; k < w; k++) A[r * w + k] -= f * A[c * w + k];
    }
  }
  const a = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = A[i * w + n];
    for (let k = i + 1; k < n; k++) s -= A[i * w + k] * a[k];
    a[i] = s / (A[i * w + i] || 1e-30);
  }
  return a;
}
