import fs from 'node:fs';
import { NotFoundError } from '../errors';
import { headOutDim, type Pooled } from '../head/head-types';
import type { AnnIndex } from '../index/ann-index';
import type { Store } from '../store/store';
import type { HeadRow } from '../store/types';
import type { HeadOps } from '../head/head-ops';
import { identityHead } from '../head/whitening';
import { spawnModuleWorker } from '../runtime/module-worker';
import { workerResult } from '../runtime/worker-calls';
import { learnHead, type LearnedHead } from './head-learning';
import { nextUnsupervisedHead, type LearnMoment } from './head-policy';

/**
 * Re-projection chunk sizes: each chunk runs synchronously on this thread (ONNX Runtime, or the TS path),
 * so they stay small enough (~25 ms) that queries between them do not wait long.
 */
const BULK_CHUNK = 512;
const SYNC_CHUNK = 1024;
/** the TypeScript projector is ~20× slower per row than ONNX Runtime */
const TS_CHUNK = 32;
const yieldNow = () => new Promise<void>((r) => setImmediate(r));

/**
 * Owns the active head: creates the initial one, projects pooled vectors with it, and switches to a new
 * version (re-projecting the library from stored pooled vectors and building its index in a worker
 * while the old head answers). The switch itself is one synchronous step, so no photo is left on an old
 * version and no query mixes versions.
 */
export class HeadManager {
  private current: HeadRow | undefined;
  private switching: Promise<unknown> = Promise.resolve();
  /** head versions whose embeddings are left to drop after a switch */
  private replaced: number[] = [];
  private closing = false;

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

  /**
   * project() for the indexer's batches, through ONNX Runtime where the ops have it: the TypeScript
   * reference cost the engine's thread ~3 ms a photo with the 768 → 1,536 identity head (~5% of indexing
   * on 2 cores). The version is the one projected with: a switch may land while the run is awaited.
   */
  async projectBatchOf(pooled: Pooled[]): Promise<{ version: number; embeddings: Float32Array[] }> {
    const { version, weights } = this.active;
    const bulk = this.ops.projectBulk;
    const embeddings = bulk ? await bulk(weights, pooled) : this.ops.projectBatch(weights, pooled);
    return { version, embeddings };
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
    const indexed = this.store.indexedCount();
    const kind = nextUnsupervisedHead(this.active, indexed, moment);
    if (!kind || (kind === 'pca' && !this.ops.learnWhiteningHead)) return null;
    // The first centring always goes in (no check): the uncentred start head is no ranking at all.
    const request = {
      modelId: this.model.modelId,
      kind,
      active: this.active.trainedOn > 0 ? this.active.weights : null,
    };
    const from = this.active.version;
    const learned = this.ops.learnInWorker
      ? await workerResult<LearnedHead | null>(
          spawnModuleWorker(import.meta.url, './head-learn.worker', { dbDir: this.index.dir, request }),
          'learning the head',
        )
      : await learnHead(this.store, request, this.ops);
    if (!learned || (learned.check && !learned.check.adopt)) return null;
    // Closing, or another head was adopted meanwhile (fine-tuning, the user): this one is out of date.
    if (this.closing || this.active.version !== from) return null;
    const { weights, check } = learned;
    const version = this.store.insertHead({
      modelId: this.model.modelId,
      kind,
      trainedOn: indexed,
      weights,
      metrics: {
        sample: learned.sample,
        ...(check ? { check: check.candidate, previous: check.active } : {}),
      },
    });
    await this.adopt(version);
    return this.active;
  }

  /**
   * Re-projects every photo with head `version`, builds its index in a worker while the current head and
   * graph keep answering, then switches head and graph together in one synchronous step. Switches are
   * serialised; a failed build (worker crash) leaves the current head and graph in use.
   */
  adopt(version: number): Promise<HeadRow> {
    const run = this.switching.catch(() => undefined).then(() => this.switchTo(version));
    // The replaced head's embeddings are dropped (in the worker) before the next switch may start.
    this.switching = run.catch(() => undefined).then(() => this.dropReplaced());
    return run;
  }

  /**
   * No switch starts after this (the library is closing; the app gives up a head still being learned):
   * learnWhitening then adopts nothing, and a switch in flight stops before it installs.
   */
  close(): void {
    this.closing = true;
  }

  get isClosed(): boolean {
    return this.closing;
  }

  /** Resolves once every switch asked for so far, and its clean-up, has finished. */
  async whenSettled(): Promise<void> {
    await this.switching.catch(() => undefined);
  }

  private async dropReplaced(): Promise<void> {
    const versions = this.replaced;
    this.replaced = [];
    if (!versions.length) return;
    await this.index
      .dropVersions(versions)
      .catch((err: Error) => process.emitWarning(`dropping replaced embeddings failed: ${err.message}`));
  }

  private async switchTo(version: number): Promise<HeadRow> {
    if (this.closing) throw new Error('the library is closing');
    const head = this.store.getHead(version);
    if (!head) throw new NotFoundError(`No head version ${version}`);
    if (head.modelId !== this.model.modelId)
      throw new NotFoundError(`Head ${version} belongs to another model (${head.modelId})`);
    const previous = this.active.version;
    // Bulk path (ONNX Runtime) in chunks that keep each synchronous run short; without it, the
    // TypeScript reference in smaller ones, so that the event loop still breathes between chunks.
    const bulk = this.ops.projectBulk;
    const chunk = bulk ? BULK_CHUNK : TS_CHUNK;
    const project = (pooled: Pooled[]) =>
      bulk ? bulk(head.weights, pooled) : Promise.resolve(this.ops.projectBatch(head.weights, pooled));
    const inWorker = this.ops.reprojectInWorker === true;
    const expected = this.store.indexedCount();
    let written = expected;
    if (!inWorker) {
      // One chunk at a time: onnxruntime-node runs a session on the calling thread, so reading chunk
      // k + 1 while chunk k is projected would overlap nothing.
      written = 0;
      for (const { ids, pooled } of this.store.pooledPages(this.model.modelId, chunk)) {
        this.store.putEmbeddings(version, ids, await project(pooled));
        written += ids.length;
        await yieldNow();
      }
    }
    const dim = headOutDim(head.weights);
    // Leftovers of a switch interrupted before its clean-up are dropped first (never the two in use).
    const drop = this.store.embeddingVersions().filter((v) => v !== version && v !== previous);
    const graph = await this.index.prepare(
      version,
      dim,
      inWorker ? { reproject: { modelId: this.model.modelId }, drop } : {},
    );
    // Photos committed meanwhile (with the old head): caught up asynchronously while there are many,
    // then the last few, the switch and the new graph in one synchronous step, so none is left on the
    // old version and no query sees the new head with the old graph. (The search for them costs
    // seconds on a large library: skipped when nothing was committed.)
    const mayMiss = () =>
      graph.log.length > 0 || written !== expected || this.store.indexedCount() !== expected;
    const caughtUp = (ids: number[], vectors: Float32Array[]) => {
      this.store.putEmbeddings(version, ids, vectors);
      graph.log.push(...ids.map((id) => ({ op: 'add' as const, id })));
    };
    while (mayMiss()) {
      const ids = this.store.idsMissingEmbedding(version, SYNC_CHUNK);
      if (ids.length < SYNC_CHUNK) break;
      for (let i = 0; i < ids.length; i += chunk) {
        const part = ids.slice(i, i + chunk);
        caughtUp(part, await project(part.map((id) => this.store.getPooled(id)!.pooled)));
      }
    }
    if (this.closing) {
      // The library closed while the graph was built or caught up: the current head stays (the next
      // switch drops the leftovers).
      if (graph.file) fs.rmSync(graph.file, { force: true });
      throw new Error('the library is closing');
    }
    this.store.transaction(() => {
      while (mayMiss()) {
        const ids = this.store.idsMissingEmbedding(version, SYNC_CHUNK);
        if (!ids.length) break;
        const pooled = ids.map((id) => this.store.getPooled(id)!.pooled);
        caughtUp(ids, this.ops.projectBatch(head.weights, pooled));
      }
      // The old embeddings are dropped afterwards in the worker (a 100k-row delete blocks for seconds).
      this.store.activateHead(version, inWorker);
    });
    if (inWorker && previous !== version) this.replaced.push(previous);
    this.current = { ...head, active: true };
    this.index.install(graph);
    return this.current;
  }
}
