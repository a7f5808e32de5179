/**
 * The default CGD head, learned without labels: each branch's FC layer is a PCA-whitening of
 * that branch's (power-normalised, L2-normalised) pooled vectors over the user's own library.
 * Eigenvalues are regularised (λ + α·mean λ) so that a small library does not blow up the
 * weak, noisy directions — with 200 photos and 768 channels most eigenvalues are ~0.
 */
import type { BranchKind, HeadBranch, HeadWeights, Pooled } from './head-types';
import { branchInput } from './project';
import { eigenOfRows } from './symmetric-eigen';

export interface WhiteningOptions {
  /** branch letters in order, e.g. "SG" */
  combo?: string;
  /** output size per branch */
  dim?: number;
  /** eigenvalue shrinkage α, as a fraction of the mean eigenvalue */
  shrinkage?: number;
  /** signed power applied to raw vectors before L2 (0.5 = square root) */
  power?: number;
  /** at most this many photos are used to learn it (a random subset beyond) */
  maxSamples?: number;
}

/** Chosen on Holidays (docs/model.md): SG beats S, G, MG and SMG; 256 per branch; shrinkage 0.3. */
export const DEFAULT_HEAD: Required<WhiteningOptions> = {
  combo: 'SG',
  dim: 256,
  shrinkage: 0.5,
  power: 1,
  maxSamples: 20000,
};

export function parseCombo(combo: string): BranchKind[] {
  if (!/^[SMG]{1,3}$/.test(combo) || new Set(combo).size !== combo.length) {
    throw new Error(
      `Invalid descriptor combination "${combo}": use distinct letters from S, M, G (e.g. SG, MG, SMG).`,
    );
  }
  return combo.split('') as BranchKind[];
}

/** Deterministic subset so that a re-learned head does not jitter between runs. */
function subsample<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;
  const step = items.length / max;
  return Array.from({ length: max }, (_, i) => items[Math.floor(i * step)]);
}

export function learnWhiteningBranch(
  kind: BranchKind,
  inputs: Float32Array[],
  opts: { dim: number; shrinkage: number; power: number },
): HeadBranch {
  const n = inputs.length;
  if (n < 2) throw new Error('At least 2 photos are needed to learn a whitening head.');
  const c = inputs[0].length;
  const mean = new Float64Array(c);
  for (const x of inputs) for (let i = 0; i < c; i++) mean[i] += x[i];
  for (let i = 0; i < c; i++) mean[i] /= n;

  // The covariance's eigenpairs, from the centred rows scaled by 1/√n (eigenOfRows takes the cheaper
  // side: a library of fewer photos than channels never pays for a c × c decomposition).
  const X = new Float64Array(n * c);
  const root = Math.sqrt(n);
  inputs.forEach((x, q) => {
    for (let i = 0; i < c; i++) X[q * c + i] = (x[i] - mean[i]) / root;
  });
  const { values, vectors } = eigenOfRows(X, n, c);
  const outDim = Math.min(opts.dim, c);
  let meanEig = 0;
  for (const v of values) meanEig += Math.max(v, 0);
  meanEig /= c;
  const alpha = opts.shrinkage * meanEig + 1e-12;
  // Directions beyond the sample's rank (zero variance) get zero rows: every library photo in the
  // sample is 0 along them, and an outside query's component there is noise.
  const weight = new Float32Array(outDim * c);
  for (let k = 0; k < Math.min(outDim, values.length); k++) {
    const s = 1 / Math.sqrt(Math.max(values[k], 0) + alpha);
    for (let i = 0; i < c; i++) weight[k * c + i] = vectors[k * c + i] * s;
  }
  return { kind, inDim: c, outDim, mean: Float32Array.from(mean), weight, power: opts.power };
}

export function learnWhiteningHead(pooled: Pooled[], options: WhiteningOptions = {}): HeadWeights {
  const o = { ...DEFAULT_HEAD, ...options };
  const sample = subsample(pooled, o.maxSamples);
  const branches = parseCombo(o.combo).map((kind) =>
    learnWhiteningBranch(
      kind,
      sample.map((p) => branchInput(p[kind], o.power)),
      o,
    ),
  );
  return { combo: o.combo, branches, combine: 'concat' };
}

/**
 * The head before a library is big enough to whiten (see pipeline/head-policy.ts): identity per
 * branch (optionally truncated to `dim`), centred on `means` when given. Centring matters: post-ReLU
 * descriptors share a large common component, so uncentred cosines of unrelated photos sit at 0.95+.
 */
export function identityHead(
  channels: number,
  combo = DEFAULT_HEAD.combo,
  dim = channels,
  means?: Partial<Record<BranchKind, Float32Array>>,
): HeadWeights {
  const out = Math.min(dim, channels);
  const branches = parseCombo(combo).map((kind): HeadBranch => {
    const weight = new Float32Array(out * channels);
    for (let i = 0; i < out; i++) weight[i * channels + i] = 1;
    return {
      kind,
      inDim: channels,
      outDim: out,
      mean: means?.[kind] ?? new Float32Array(channels),
      weight,
      power: 1,
    };
  });
  return { combo, branches, combine: 'concat' };
}

/** Identity head centred on the library's mean branch inputs: no eigen-decomposition, any size ≥ 1. */
export function centredIdentityHead(pooled: Pooled[], combo = DEFAULT_HEAD.combo): HeadWeights {
  if (pooled.length === 0) throw new Error('A centred head needs at least one photo.');
  const channels = pooled[0].S.length;
  const means: Partial<Record<BranchKind, Float32Array>> = {};
  for (const kind of parseCombo(combo)) {
    const m = new Float64Array(channels);
    for (const p of pooled) {
      const x = branchInput(p[kind], 1);
      for (let i = 0; i < channels; i++) m[i] += x[i];
    }
    means[kind] = Float32Array.from(m, (v) => v / pooled.length);
  }
  return identityHead(channels, combo, channels, means);
}
