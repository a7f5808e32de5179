/**
 * The CGD head's forward pass in plain TypeScript: the one JS implementation. Serving projects with it
 * (single queries, small batches), the trainer runs it for every forward step and evaluation (keeping its
 * buffers for backprop), and the ONNX graph used for bulk re-projection (head-session.ts) is checked
 * against it. Batches are row-major Float32Array matrices in preallocated buffers.
 *
 *   x_i = ρ(f_i)/‖ρ(f_i)‖   (branchInput, fixed)      z_i = W_i (x_i − μ_i)      φ_i = z_i / ‖z_i‖
 *   c = φ_1 ⊕ … ⊕ φ_n  (or Σ φ_i)                      ψ = c / ‖c‖
 */
import type { BranchKind, HeadWeights, LinearHead, Pooled } from './head-types';
import { headOutDim } from './head-types';

/**
 * x / max(‖x‖, ε): a zero vector stays zero. ε is the ONNX graph's (head-session.ts), below any real
 * norm of unit-scale float32 data, so both paths divide alike.
 */
export const NORM_EPS = 1e-30;

/**
 * y[r] = z[r] / max(‖z[r]‖, ε) for `rows` rows of `dim` (in place when y is z); the norms are stored when
 * asked for (the trainer's backward pass needs them). The one L2 normalisation of the engine.
 */
export function l2NormalizeRows<T extends Float32Array | Float64Array>(
  z: T,
  rows: number,
  dim: number,
  y: T = z,
  norms?: Float32Array,
): T {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let s = 0;
    for (let k = 0; k < dim; k++) s += z[o + k] * z[o + k];
    const n = Math.max(Math.sqrt(s), NORM_EPS);
    if (norms) norms[r] = n;
    const inv = 1 / n;
    for (let k = 0; k < dim; k++) y[o + k] = z[o + k] * inv;
  }
  return y;
}

/** One vector to unit length, in place. */
export function l2normalize<T extends Float32Array | Float64Array>(v: T): T {
  return l2NormalizeRows(v, 1, v.length);
}

/** x = ρ(f)/‖ρ(f)‖: the fixed input step of a branch (a new array). */
export function branchInput(raw: Float32Array, power: number): Float32Array {
  const x = new Float32Array(raw.length);
  if (power === 1) x.set(raw);
  else for (let i = 0; i < raw.length; i++) x[i] = Math.sign(raw[i]) * Math.abs(raw[i]) ** power;
  return l2normalize(x);
}

/**
 * out[r] = W x[r] (+ b); W is outDim × inDim row-major. Rows go four at a time so that each weight
 * read from memory serves four dot products (the weights, not the arithmetic, are the bottleneck).
 */
export function linearForward(
  x: Float32Array,
  W: Float32Array,
  b: Float32Array | null,
  rows: number,
  inDim: number,
  outDim: number,
  out: Float32Array,
): void {
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const x0 = r * inDim;
    const x1 = x0 + inDim;
    const x2 = x1 + inDim;
    const x3 = x2 + inDim;
    const oo = r * outDim;
    for (let o = 0; o < outDim; o++) {
      const wo = o * inDim;
      const bias = b ? b[o] : 0;
      let s0 = bias;
      let s1 = bias;
      let s2 = bias;
      let s3 = bias;
      for (let k = 0; k < inDim; k++) {
        const w = W[wo + k];
        s0 += w * x[x0 + k];
        s1 += w * x[x1 + k];
        s2 += w * x[x2 + k];
        s3 += w * x[x3 + k];
      }
      out[oo + o] = s0;
      out[oo + outDim + o] = s1;
      out[oo + 2 * outDim + o] = s2;
      out[oo + 3 * outDim + o] = s3;
    }
  }
  for (; r < rows; r++) {
    const xo = r * inDim;
    const oo = r * outDim;
    for (let o = 0; o < outDim; o++) {
      const wo = o * inDim;
      let s = b ? b[o] : 0;
      for (let k = 0; k < inDim; k++) s += W[wo + k] * x[xo + k];
      out[oo + o] = s;
    }
  }
}

/** The forward pass's intermediate values for up to `rows` rows; the trainer's backward reads them. */
export interface ForwardBuffers {
  /** per branch: centred inputs x − μ, z = W(x − μ), φ = z/‖z‖ and ‖z‖ */
  readonly x: Float32Array[];
  readonly z: Float32Array[];
  readonly phi: Float32Array[];
  readonly norms: Float32Array[];
  /** combined φ, then ψ = c/‖c‖ and ‖c‖ */
  readonly comb: Float32Array;
  readonly psi: Float32Array;
  readonly psiNorms: Float32Array;
}

export function forwardBuffers(head: LinearHead, rows: number): ForwardBuffers {
  const outDim = headOutDim(head);
  return {
    x: head.branches.map((b) => new Float32Array(rows * b.inDim)),
    z: head.branches.map((b) => new Float32Array(rows * b.outDim)),
    phi: head.branches.map((b) => new Float32Array(rows * b.outDim)),
    norms: head.branches.map(() => new Float32Array(rows)),
    comb: new Float32Array(rows * outDim),
    psi: new Float32Array(rows * outDim),
    psiNorms: new Float32Array(rows),
  };
}

/**
 * The forward pass on rows idx[0..rows) of the prepared inputs (one N × inDim matrix per branch, after
 * the input step); fills every buffer, ψ in buf.psi.
 */
export function headForward(
  head: LinearHead,
  inputs: readonly Float32Array[],
  idx: ArrayLike<number>,
  rows: number,
  buf: ForwardBuffers,
): void {
  const D = headOutDim(head);
  const sum = head.combine === 'sum';
  if (sum) buf.comb.fill(0, 0, rows * D);
  let off = 0;
  head.branches.forEach((b, i) => {
    const x = buf.x[i];
    const src = inputs[i];
    const inD = b.inDim;
    for (let r = 0; r < rows; r++) {
      const so = idx[r] * inD;
      const xo = r * inD;
      for (let k = 0; k < inD; k++) x[xo + k] = src[so + k] - b.mean[k];
    }
    linearForward(x, b.weight, null, rows, inD, b.outDim, buf.z[i]);
    l2NormalizeRows(buf.z[i], rows, b.outDim, buf.phi[i], buf.norms[i]);
    const phi = buf.phi[i];
    const od = b.outDim;
    for (let r = 0; r < rows; r++) {
      if (sum) for (let k = 0; k < od; k++) buf.comb[r * D + k] += phi[r * od + k];
      else buf.comb.set(phi.subarray(r * od, (r + 1) * od), r * D + off);
    }
    off += od;
  });
  l2NormalizeRows(buf.comb, rows, D, buf.psi, buf.psiNorms);
}

/** Rows per forward call when embedding many: buffers stay small, each weight read serves many rows. */
const EMBED_ROWS = 256;

/** ψ of every row of the prepared inputs, N × outDim row-major, `batch` rows at a time through `buf`. */
export function embedRows(
  head: LinearHead,
  inputs: readonly Float32Array[],
  n: number,
  buf: ForwardBuffers = forwardBuffers(head, Math.min(n, EMBED_ROWS)),
  batch = Math.min(n, EMBED_ROWS),
): Float32Array {
  const D = headOutDim(head);
  const out = new Float32Array(n * D);
  const idx = new Int32Array(batch);
  for (let s = 0; s < n; s += batch) {
    const rows = Math.min(batch, n - s);
    for (let r = 0; r < rows; r++) idx[r] = s + r;
    headForward(head, inputs, idx, rows, buf);
    out.set(buf.psi.subarray(0, rows * D), s * D);
  }
  return out;
}

/** The input step of every branch for every photo: one N × inDim matrix per branch. */
export function branchInputs(head: HeadWeights, pooled: readonly Pooled[]): Float32Array[] {
  return head.branches.map((b) => {
    const out = new Float32Array(pooled.length * b.inDim);
    pooled.forEach((p, r) => {
      const v = p[b.kind as BranchKind];
      if (!v || v.length !== b.inDim)
        throw new Error(
          `pooled vector ${r}: ${b.kind} has ${v ? v.length : 'no'} values, the head expects ${b.inDim}`,
        );
      out.set(branchInput(v, b.power), r * b.inDim);
    });
    return out;
  });
}

/** Embeddings of raw pooled vectors, N × outDim row-major. */
export function projectRows(head: HeadWeights, pooled: readonly Pooled[]): Float32Array {
  return pooled.length ? embedRows(head, branchInputs(head, pooled), pooled.length) : new Float32Array(0);
}

/** Embeddings of raw pooled vectors, one array each. */
export function projectBatch(head: HeadWeights, pooled: readonly Pooled[]): Float32Array[] {
  const D = headOutDim(head);
  const flat = projectRows(head, pooled);
  return pooled.map((_, r) => flat.slice(r * D, (r + 1) * D));
}

export function projectOne(head: HeadWeights, pooled: Pooled): Float32Array {
  return projectBatch(head, [pooled])[0];
}
