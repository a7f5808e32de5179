/**
 * The CGD head as an ONNX graph, run in ONNX Runtime: bulk re-projection of a whole library (a head
 * switch re-projects every stored pooled vector). projectBatch (project.ts) is the reference and stays
 * the path for single photos; this graph reproduces it step for step (the unit test holds them to 1e-5):
 *   per branch: signed power (skipped when 1) → L2 → − μ → · Wᵀ → L2;   concat (or sum) → L2.
 * Zero norms stay zero as in project.ts: x / max(‖x‖, ε) maps a zero vector to zero.
 */
import type * as ort from 'onnxruntime-node';
import { loadOrt } from '../runtime/lazy-modules';
import type { BranchKind, HeadWeights, Pooled } from './head-types';
import { headOutDim } from './head-types';
import { NORM_EPS } from './project';
import { DataType, GraphBuilder, encodeOnnxModel } from '../model/onnx-writer';
import { createSessionWithFallback, type ProviderName } from '../runtime/execution-provider';

export const HEAD_OUTPUT = 'embedding';
const OPSET = 17;
/** Below any real norm of unit-scale float32 data, above zero: only exact zeros map to zero. */
// (the JS forward pass's own ε, so that both divide alike)
/** Rows per ORT run: large enough to amortise the call, small enough to keep the packed inputs ~25 MB. */
const RUN_ROWS = 8192;

/** Serialises the head to ONNX bytes; inputs are the branch kinds the head uses, each [N, C] float32. */
export function headToOnnx(head: HeadWeights): Uint8Array {
  if (!head.branches.length) throw new Error('head has no branches');
  const g = new GraphBuilder();
  const eps = g.constFloat('norm_eps', [], [NORM_EPS]);
  const l2 = (x: string, out?: string) => {
    const n = g.node('ReduceL2', [x], { axes: [1], keepdims: 1 });
    return g.node('Div', [x, g.node('Max', [n, eps])], undefined, out);
  };
  const kinds: BranchKind[] = [];
  const outs = head.branches.map((b, i) => {
    if (b.weight.length !== b.outDim * b.inDim || b.mean.length !== b.inDim)
      throw new Error(`head branch ${i} (${b.kind}): weight/mean sizes do not match ${b.outDim}×${b.inDim}`);
    if (!kinds.includes(b.kind)) kinds.push(b.kind);
    let x: string = b.kind;
    if (b.power !== 1) {
      const pow = g.node('Pow', [g.node('Abs', [x]), g.constFloat(`b${i}_power`, [], [b.power])]);
      x = g.node('Mul', [g.node('Sign', [x]), pow]);
    }
    // W stored row-major outDim × inDim; MatMul wants inDim × outDim.
    const wt = new Float32Array(b.inDim * b.outDim);
    for (let o = 0; o < b.outDim; o++)
      for (let c = 0; c < b.inDim; c++) wt[c * b.outDim + o] = b.weight[o * b.inDim + c];
    // Centre before projecting (not W·x − W·μ): whitening W amplifies μ's direction, and the folded
    // form would lose float32 digits to cancellation.
    const centred = g.node('Sub', [l2(x), g.constFloat(`b${i}_mean`, [1, b.inDim], b.mean)]);
    return l2(g.node('MatMul', [centred, g.constFloat(`b${i}_wt`, [b.inDim, b.outDim], wt)]));
  });
  let combined: string;
  if (outs.length === 1) combined = outs[0];
  else if (head.combine === 'sum') combined = g.node('Sum', outs);
  else combined = g.node('Concat', outs, { axis: 1 });
  l2(combined, HEAD_OUTPUT);

  const inputByKind = new Map(head.branches.map((b) => [b.kind, b.inDim]));
  return encodeOnnxModel({
    producer: 'likeness-head',
    producerVersion: '1',
    opset: OPSET,
    graph: {
      name: `cgd_head_${head.combo}_${head.combine}`,
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: kinds.map((k) => ({ name: k, type: DataType.FLOAT, shape: ['batch', inputByKind.get(k)!] })),
      outputs: [{ name: HEAD_OUTPUT, type: DataType.FLOAT, shape: ['batch', headOutDim(head)] }],
    },
  });
}

export class HeadSession {
  private readonly kinds: { kind: BranchKind; dim: number }[];
  readonly outDim: number;

  private constructor(
    private readonly session: ort.InferenceSession,
    head: HeadWeights,
  ) {
    const seen = new Map<BranchKind, number>();
    for (const b of head.branches) seen.set(b.kind, b.inDim);
    this.kinds = [...seen].map(([kind, dim]) => ({ kind, dim }));
    this.outDim = headOutDim(head);
  }

  /** CPU by default: the head is a few matrix products, and copying to a GPU would cost more than it saves. */
  static async create(head: HeadWeights, providers: ProviderName[] = ['cpu']): Promise<HeadSession> {
    const { session } = await createSessionWithFallback(headToOnnx(head), providers);
    return new HeadSession(session, head);
  }

  /** Raw pooled vectors → L2-normalised embeddings (one new array each), as projectBatch. */
  async project(pooled: Pooled[]): Promise<Float32Array[]> {
    const { Tensor } = await loadOrt();
    const out: Float32Array[] = [];
    for (let start = 0; start < pooled.length; start += RUN_ROWS) {
      const part = pooled.slice(start, start + RUN_ROWS);
      const feeds: Record<string, ort.Tensor> = {};
      for (const { kind, dim } of this.kinds) {
        const buf = new Float32Array(part.length * dim);
        part.forEach((p, i) => {
          const v = p[kind];
          if (!v || v.length !== dim)
            throw new Error(
              `pooled vector ${start + i}: ${kind} has ${v ? v.length : 'no'} values, the head expects ${dim}`,
            );
          buf.set(v, i * dim);
        });
        feeds[kind] = new Tensor('float32', buf, [part.length, dim]);
      }
      const result = await this.session.run(feeds);
      const data = result[HEAD_OUTPUT].data as Float32Array;
      for (let i = 0; i < part.length; i++) out.push(data.slice(i * this.outDim, (i + 1) * this.outDim));
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * One cached session for the last head seen (a head switch projects chunk after chunk with the same
 * head object). The previous head's session is released once no projection still uses it.
 */
interface CacheEntry {
  head: HeadWeights;
  session: Promise<HeadSession>;
  busy: number;
  stale: boolean;
  released: boolean;
}
let cached: CacheEntry | null = null;

function releaseIfIdle(e: CacheEntry): void {
  if (!e.stale || e.busy > 0 || e.released) return;
  e.released = true;
  e.session.then((s) => s.release()).catch(() => {});
}

function retire(e: CacheEntry): void {
  if (cached === e) cached = null;
  e.stale = true;
  releaseIfIdle(e);
}

/** projectBatch through ONNX Runtime, with the last head's session kept between calls. */
export async function projectBatchFast(head: HeadWeights, pooled: Pooled[]): Promise<Float32Array[]> {
  if (pooled.length === 0) return [];
  if (cached?.head !== head) {
    if (cached) retire(cached);
    cached = { head, session: HeadSession.create(head), busy: 0, stale: false, released: false };
  }
  const entry = cached;
  entry.busy++;
  try {
    return await (await entry.session).project(pooled);
  } catch (e) {
    entry.stale = true; // a session that failed (to load or to run) is not kept
    if (cached === entry) cached = null;
    throw e;
  } finally {
    entry.busy--;
    releaseIfIdle(entry);
  }
}

/** Releases the cached session (shutdown, tests). */
export function releaseFastSession(): void {
  if (cached) retire(cached);
}
