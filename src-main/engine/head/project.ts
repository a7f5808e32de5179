/**
 * The CGD head's forward pass in plain TypeScript: reference implementation, used for single
 * queries and small batches. Bulk re-projection of a whole library goes through ONNX Runtime
 * (head-session.ts), which is checked against this.
 */
import type { BranchKind, HeadBranch, HeadWeights, Pooled } from './head-types';
import { headOutDim } from './head-types';

export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const k = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i] *= k;
  return v;
}

/** x = ρ(f)/‖ρ(f)‖: the fixed input step of a branch (a new array). */
export function branchInput(raw: Float32Array, power: number): Float32Array {
  const x = new Float32Array(raw.length);
  if (power === 1) x.set(raw);
  else for (let i = 0; i < raw.length; i++) x[i] = Math.sign(raw[i]) * Math.abs(raw[i]) ** power;
  return l2normalize(x);
}

/** Φ = W (x − μ) / ‖·‖ for one branch, written into `out` at `offset`. */
function projectBranch(b: HeadBranch, x: Float32Array, out: Float32Array, offset: number): void {
  const { inDim, outDim, weight, mean } = b;
  const centered = new Float32Array(inDim);
  for (let i = 0; i < inDim; i++) centered[i] = x[i] - mean[i];
  let norm = 0;
  for (let o = 0; o < outDim; o++) {
    let acc = 0;
    const row = o * inDim;
    for (let i = 0; i < inDim; i++) acc += weight[row + i] * centered[i];
    out[offset + o] = acc;
    norm += acc * acc;
  }
  const k = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let o = 0; o < outDim; o++) out[offset + o] *= k;
}

export function projectOne(head: HeadWeights, pooled: Pooled): Float32Array {
  const out = new Float32Array(headOutDim(head));
  if (head.combine === 'sum') {
    const tmp = new Float32Array(out.length);
    for (const b of head.branches) {
      projectBranch(b, branchInput(pooled[b.kind as BranchKind], b.power), tmp, 0);
      for (let i = 0; i < out.length; i++) out[i] += tmp[i];
    }
  } else {
    let offset = 0;
    for (const b of head.branches) {
      projectBranch(b, branchInput(pooled[b.kind as BranchKind], b.power), out, offset);
      offset += b.outDim;
    }
  }
  return l2normalize(out);
}

export function projectBatch(head: HeadWeights, pooled: Pooled[]): Float32Array[] {
  return pooled.map((p) => projectOne(head, p));
}
