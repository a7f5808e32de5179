import fs from 'node:fs';
import path from 'node:path';
import hnswlib from 'hnswlib-node';
import type { Store } from '../store/store';
import { exactSearch } from './exact-search';
import { fileSha1, writeFileAtomic } from './file-checksum';
import type { Neighbor } from './vector-math';

const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

export interface AnnOptions {
  /** HNSW graph degree */
  m: number;
  efConstruction: number;
  /** search beam; raised to k when k is larger */
  efSearch: number;
  /** below this many photos, queries are answered by exact search */
  exactBelow: number;
  /** rebuild instead of reconciling when more than this fraction of the saved index differs */
  reconcileLimit: number;
}

// Tuned with `npm run bench:query` on 100k clustered 384-d vectors (2 cores): efConstruction 100 / ef 96 gives
// recall@10 1.000, p99 6.7 ms, build 203 s; 200 / 96 built in 454 s for the same recall; 64 / 64 gave 0.983.
// At the default 512 d (docs/bench/query.json): 100k recall 1.000, p99 2.6 ms; 1M recall 0.81, p99 3.5 ms
// (a build of 56 min on one thread): a million-photo library would want a larger ef.
export const DEFAULT_ANN_OPTIONS: AnnOptions = {
  m: 16,
  efConstruction: 100,
  efSearch: 96,
  exactBelow: 3000,
  reconcileLimit: 0.2,
};

export const INDEX_FILE = 'index.hnsw';
export const SIDECAR_FILE = 'index.json';

interface Sidecar {
  format: 1;
  headVersion: number;
  dim: number;
  count: number;
  checksum: string;
  bytes: number;
  /** labels marked deleted inside the file (hnswlib keeps them in its label list) */
  deleted: number[];
  savedAt: number;
}

export type IndexState = 'closed' | 'building' | 'ready';

/** Why the saved index was not used as is (for logs and tests). */
export type LoadOutcome = 'loaded' | 'reconciled' | 'missing' | 'stale' | 'corrupt' | 'rebuilt-empty';

/**
 * The HNSW index over the active head's embeddings: a cache of SQLite, persisted beside the database
 * with a sidecar (head version, count, checksum). It is rebuilt in the background when missing, stale
 * or corrupt; meanwhile (and for small libraries) queries use exact search, so they never wait.
 */
export class AnnIndex {
  readonly options: AnnOptions;
  private hnsw: Hnsw | null = null;
  private live = new Set<number>();
  private deleted = new Set<number>();
  private pendingOps: ({ op: 'add'; id: number; vec: Float32Array } | { op: 'remove'; id: number })[] = [];
  private generation = 0;
  private building: Promise<void> | null = null;
  private dirty = false;
  headVersion = 0;
  dim = 0;
  state: IndexState = 'closed';
  lastLoad: LoadOutcome | null = null;

  constructor(
    private readonly store: Store,
    private readonly dir: string,
    options: Partial<AnnOptions> = {},
  ) {
    this.options = { ...DEFAULT_ANN_OPTIONS, ...options };
  }

  get indexFile(): string {
    return path.join(this.dir, INDEX_FILE);
  }

  get sidecarFile(): string {
    return path.join(this.dir, SIDECAR_FILE);
  }

  /** Number of live photos in the index (or that will be, once the build finishes). */
  get size(): number {
    return this.state === 'ready' ? this.live.size : this.store.embeddingFingerprint(this.headVersion).count;
  }

  /** Opens the index for a head version: loads the saved file if valid, else starts a background rebuild. */
  open(headVersion: number, dim: number): LoadOutcome {
    this.generation++;
    this.headVersion = headVersion;
    this.dim = dim;
    this.hnsw = null;
    this.live = new Set();
    this.deleted = new Set();
    const outcome = this.tryLoad();
    this.lastLoad = outcome;
    if (outcome === 'loaded' || outcome === 'reconciled') this.state = 'ready';
    else this.startRebuild();
    return outcome;
  }

  private tryLoad(): LoadOutcome {
    let side: Sidecar;
    try {
      if (!fs.existsSync(this.indexFile) || !fs.existsSync(this.sidecarFile)) return 'missing';
      side = JSON.parse(fs.readFileSync(this.sidecarFile, 'utf8')) as Sidecar;
    } catch {
      return 'corrupt';
    }
    if (side.format !== 1 || side.headVersion !== this.headVersion || side.dim !== this.dim) return 'stale';
    try {
      const st = fs.statSync(this.indexFile);
      if (st.size !== side.bytes || fileSha1(this.indexFile) !== side.checksum) return 'corrupt';
      const h = new HierarchicalNSW('ip', this.dim);
      h.readIndexSync(this.indexFile);
      h.setEf(this.options.efSearch);
      const deleted = new Set(side.deleted);
      const live = new Set(h.getIdsList().filter((id) => !deleted.has(id)));
      this.hnsw = h;
      this.live = live;
      this.deleted = deleted;
    } catch {
      return 'corrupt';
    }
    return this.reconcile();
  }

  /** Brings a loaded index up to date with SQLite (a crash may have left it a few photos behind). */
  private reconcile(): LoadOutcome {
    // ids only: reading every vector here cost 0.7 s at 10k photos on each open
    const inStore = new Set(this.store.embeddingIds(this.headVersion));
    const toAdd = [...inStore].filter((id) => !this.live.has(id));
    const toRemove = [...this.live].filter((id) => !inStore.has(id));
    if (toAdd.length + toRemove.length === 0) return 'loaded';
    if (toAdd.length + toRemove.length > this.options.reconcileLimit * Math.max(inStore.size, 1) + 50) {
      this.hnsw = null;
      return 'stale';
    }
    for (const id of toAdd) {
      const v = this.store.getEmbedding(id, this.headVersion);
      if (v) this.addNow(id, v);
    }
    for (const id of toRemove) this.removeNow(id);
    this.dirty = true;
    return 'reconciled';
  }

  private startRebuild(): void {
    this.state = 'building';
    this.pendingOps = [];
    const gen = this.generation;
    this.building = this.rebuild(gen).catch((err) => {
      // A failed build leaves exact search in place; the next open tries again.
      if (gen === this.generation) this.state = 'building';
      process.emitWarning(`HNSW rebuild failed: ${(err as Error).message}`);
    });
  }

  /** Rebuilds from SQLite in chunks, yielding to the event loop (hnswlib adds on this one thread). */
  private async rebuild(gen: number): Promise<void> {
    const count = this.store.embeddingFingerprint(this.headVersion).count;
    const h = new HierarchicalNSW('ip', this.dim);
    h.initIndex({
      maxElements: Math.max(1024, Math.ceil(count * 1.25)),
      m: this.options.m,
      efConstruction: this.options.efConstruction,
    });
    h.setEf(this.options.efSearch);
    const live = new Set<number>();
    let after = 0;
    let sliceStart = Date.now();
    for (;;) {
      const { ids, vectors } = this.store.embeddingChunk(this.headVersion, after, 1024);
      for (let i = 0; i < ids.length; i++) {
        if (h.getCurrentCount() >= h.getMaxElements())
          h.resizeIndex(Math.max(1024, Math.ceil(h.getMaxElements() * 1.5)));
        h.addPoint(Array.from(vectors[i]), ids[i]);
        live.add(ids[i]);
        if (Date.now() - sliceStart > 8) {
          await new Promise<void>((r) => setImmediate(r));
          if (gen !== this.generation) return;
          sliceStart = Date.now();
        }
      }
      if (ids.length < 1024) break;
      after = ids[ids.length - 1];
    }
    if (gen !== this.generation) return;
    this.hnsw = h;
    this.live = live;
    this.deleted = new Set();
    for (const op of this.pendingOps) {
      if (op.op === 'add') this.addNow(op.id, op.vec);
      else this.removeNow(op.id);
    }
    this.pendingOps = [];
    this.state = 'ready';
    this.dirty = true;
    this.save();
  }

  /** Resolves when a background build (if any) has finished. */
  async whenReady(): Promise<void> {
    while (this.building && this.state === 'building') {
      const b = this.building;
      await b;
      if (b === this.building) break;
    }
  }

  add(id: number, vec: Float32Array): void {
    if (this.state === 'building') this.pendingOps.push({ op: 'add', id, vec });
    else if (this.state === 'ready') this.addNow(id, vec);
  }

  remove(id: number): void {
    if (this.state === 'building') this.pendingOps.push({ op: 'remove', id });
    else if (this.state === 'ready') this.removeNow(id);
  }

  private addNow(id: number, vec: Float32Array): void {
    let h = this.hnsw;
    if (!h) {
      h = new HierarchicalNSW('ip', this.dim);
      h.initIndex({ maxElements: 1024, m: this.options.m, efConstruction: this.options.efConstruction });
      h.setEf(this.options.efSearch);
      this.hnsw = h;
    }
    if (h.getCurrentCount() >= h.getMaxElements())
      h.resizeIndex(Math.max(1024, Math.ceil(h.getMaxElements() * 1.5)));
    // Re-adding a label that was marked deleted updates the point and unmarks it.
    h.addPoint(Array.from(vec), id);
    this.live.add(id);
    this.deleted.delete(id);
    this.dirty = true;
  }

  private removeNow(id: number): void {
    if (!this.hnsw || !this.live.has(id)) return;
    this.hnsw.markDelete(id);
    this.live.delete(id);
    this.deleted.add(id);
    this.dirty = true;
  }

  /** True when queries are answered exactly (small library, or the index is still building). */
  get exact(): boolean {
    return this.state !== 'ready' || this.live.size < this.options.exactBelow;
  }

  /** k nearest by cosine, best first; `accept` filters ids (folder, date, not-self). */
  search(query: Float32Array, k: number, accept?: (id: number) => boolean): Neighbor[] {
    if (k <= 0) return [];
    if (this.exact || !this.hnsw) return exactSearch(this.store, this.headVersion, query, k, accept);
    const kk = Math.min(k, this.live.size);
    if (kk === 0) return [];
    this.hnsw.setEf(Math.max(this.options.efSearch, kk));
    const res = this.hnsw.searchKnn(Array.from(query), kk, accept);
    const out: Neighbor[] = res.neighbors.map((id, i) => ({ id, score: 1 - res.distances[i] }));
    out.sort((a, b) => b.score - a.score);
    return out;
  }

  /** Writes the index and its sidecar (atomically, index first) if anything changed. */
  save(): void {
    if (this.state !== 'ready' || !this.hnsw || !this.dirty) return;
    const tmp = `${this.indexFile}.tmp-${process.pid}`;
    this.hnsw.writeIndexSync(tmp);
    const bytes = fs.statSync(tmp).size;
    const checksum = fileSha1(tmp);
    fs.renameSync(tmp, this.indexFile);
    const side: Sidecar = {
      format: 1,
      headVersion: this.headVersion,
      dim: this.dim,
      count: this.live.size,
      checksum,
      bytes,
      deleted: [...this.deleted],
      savedAt: Date.now(),
    };
    writeFileAtomic(this.sidecarFile, JSON.stringify(side));
    this.dirty = false;
  }

  close(): void {
    try {
      this.save();
    } finally {
      this.generation++;
      this.hnsw = null;
      this.state = 'closed';
    }
  }
}
