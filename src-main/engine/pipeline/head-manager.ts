import { headOutDim, type Pooled } from '../head/head-types';
import type { AnnIndex } from '../index/ann-index';
import type { Store } from '../store/store';
import type { HeadRow } from '../store/types';
import type { HeadOps } from './head-ops';
import { DEFAULT_HEAD, centredIdentityHead, identityHead } from '../head/whitening';
import { nextUnsupervisedHead, type LearnMoment } from './head-policy';

/** Learning a whitening head on more photos than this gains nothing measurable and costs memory. */
const MAX_LEARN_SAMPLE = 20_000;
/** Re-projection chunk sizes: ONNX Runtime amortises its call over many rows; the TS path yields often. */
const BULK_CHUNK = 8192;
const SYNC_CHUNK = 1024;
const yieldNow = () => new Promise<void>((r) => setImmediate(r));

/**
 * Owns the active head: creates the initial one, projects pooled vectors with it, and switches to a new
 * version (re-projecting the library from stored pooled vectors, then rebuilding the index in the
 * background). The switch itself is one synchronous step, so no photo is left on an old version.
 */
export class HeadManager {
  private current: HeadRow | undefined;

  constructor(
    private readonly store: Store,
    private readonly index: AnnIndex,
    private readonly ops: HeadOps,
    private readonly model: { modelId: string; channels: number },
  ) {}

  /** The active head for the current model, created (un-whitened) if there is none. */
  ensure(): HeadRow {
    if (this.current) return this.current;
    let head = this.store.activeHead(this.model.modelId);
    if (!head) {
      const version = this.store.insertHead({
        modelId: this.model.modelId,
        kind: 'identity',
        trainedOn: 0,
        weights: identityHead(this.model.channels),
      });
      this.store.activateHead(version);
      head = this.store.getHead(version)!;
    }
    this.current = head;
    return head;
  }

  get active(): HeadRow {
    return this.ensure();
  }

  get dim(): number {
    return headOutDim(this.active.weights);
  }

  project(pooled: Pooled[]): Float32Array[] {
    return this.ops.projectBatch(this.active.weights, pooled);
  }

  /** Whether the head policy asks for a new unsupervised head now (head-policy.ts). */
  needsRelearn(moment: LearnMoment = 'end-of-run'): boolean {
    const next = nextUnsupervisedHead(this.active, this.store.indexedCount(), moment);
    return next === 'identity' || (next === 'pca' && !!this.ops.learnWhiteningHead);
  }

  /**
   * Learns the unsupervised head the policy asks for (centred identity or PCA-whitening) and adopts it,
   * unless the library says it would serve worse than the active head (then null: the active one stays).
   */
  async learnWhitening(moment: LearnMoment = 'end-of-run'): Promise<HeadRow | null> {
    const kind = nextUnsupervisedHead(this.active, this.store.indexedCount(), moment);
    const learn = this.ops.learnWhiteningHead;
    if (!kind || (kind === 'pca' && !learn)) return null;
    const indexed = this.store.indexedCount();
    const stride = Math.max(1, Math.ceil(indexed / MAX_LEARN_SAMPLE));
    const sample: Pooled[] = [];
    let after = 0;
    let i = 0;
    for (;;) {
      const { ids, pooled } = this.store.pooledChunk(this.model.modelId, after, 2048);
      for (const p of pooled) if (i++ % stride === 0) sample.push(p);
      if (ids.length < 2048) break;
      after = ids[ids.length - 1];
      await yieldNow();
    }
    if (sample.length < 2) return null;
    const weights = kind === 'pca' ? learn!(sample, { ...DEFAULT_HEAD }) : centredIdentityHead(sample);
    // The first centring always goes in: the uncentred start head is no ranking at all.
    const judge = this.ops.compareHeads;
    const check =
      judge && this.active.trainedOn > 0
        ? judge(weights, this.active.weights, sample, this.ops.projectBatch)
        : null;
    if (check && !check.adopt) return null;
    const version = this.store.insertHead({
      modelId: this.model.modelId,
      kind,
      trainedOn: indexed,
      weights,
      metrics: {
        sample: sample.length,
        ...(check ? { check: check.candidate, previous: check.active } : {}),
      },
    });
    await this.adopt(version);
    return this.active;
  }

  /** Re-projects every photo with head `version`, then makes it active and rebuilds the index. */
  async adopt(version: number): Promise<HeadRow> {
    const head = this.store.getHead(version);
    if (!head) throw new Error(`No head version ${version}`);
    if (head.modelId !== this.model.modelId)
      throw new Error(`Head ${version} belongs to another model (${head.modelId})`);
    // Bulk path (ONNX Runtime) in large chunks; without it, the TypeScript reference in small ones so
    // that the event loop still breathes between chunks.
    const bulk = this.ops.projectBulk;
    const chunk = bulk ? BULK_CHUNK : SYNC_CHUNK;
    const project = (pooled: Pooled[]) =>
      bulk ? bulk(head.weights, pooled) : Promise.resolve(this.ops.projectBatch(head.weights, pooled));
    // One chunk at a time: onnxruntime-node runs a session on the calling thread, so reading chunk k + 1
    // while chunk k is projected would overlap nothing.
    const expected = this.store.indexedCount();
    let written = 0;
    let after = 0;
    for (;;) {
      const { ids, pooled } = this.store.pooledChunk(this.model.modelId, after, chunk);
      if (ids.length) {
        this.store.putEmbeddings(version, ids, await project(pooled));
        written += ids.length;
      }
      if (ids.length < chunk) break;
      after = ids[ids.length - 1];
      await yieldNow();
    }
    // Photos committed meanwhile (with the old head): caught up asynchronously while there are many,
    // then the last few and the switch in one synchronous step, so none is left on the old version.
    // (The search for them costs seconds on a large library: skipped when nothing was committed.)
    if (this.store.indexedCount() !== expected || written !== expected) {
      for (;;) {
        const ids = this.store.idsMissingEmbedding(version, chunk);
        if (ids.length < SYNC_CHUNK) break;
        const pooled = ids.map((id) => this.store.getPooled(id)!.pooled);
        this.store.putEmbeddings(version, ids, await project(pooled));
      }
    }
    this.store.transaction(() => {
      for (;;) {
        const ids = this.store.idsMissingEmbedding(version, SYNC_CHUNK);
        if (!ids.length) break;
        const pooled = ids.map((id) => this.store.getPooled(id)!.pooled);
        this.store.putEmbeddings(version, ids, this.ops.projectBatch(head.weights, pooled));
      }
      this.store.activateHead(version);
    });
    this.current = { ...head, active: true };
    this.index.open(version, headOutDim(head.weights));
    return this.current;
  }
}
