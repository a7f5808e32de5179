import fs from 'node:fs';
import path from 'node:path';
import hnswlib from 'hnswlib-node';
import type { Store } from '../store/store';
import { exactSearch } from './exact-search';
import { fileSha1, fileSha1Async, writeFileAtomic } from './file-checksum';
import { startGraphBuild } from './graph-builder';
import type { Neighbor } from './vector-math';

const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

export interface AnnOptions {
  /** HNSW graph degree (of a graph built for fewer photos than the first point of mBySize) */
  m: number;
  /** measured (photos, degree) points, ascending: a graph built for a library of that size or more (mForSize) */
  mBySize: readonly (readonly [photos: number, m: number])[];
  efConstruction: number;
  /** search beam of small libraries (and the least of any); raised to k when k is larger */
  efSearch: number;
  /** measured (photos, beam) points, ascending by size: the beam of larger libraries (efForSize) */
  efBySize: readonly (readonly [photos: number, ef: number])[];
  /** below this many photos, queries are answered by exact search, and no graph is kept */
  exactBelow: number;
  /** rebuild instead of reconciling when more than this fraction of the saved index differs */
  reconcileLimit: number;
}

// Tuned with `npm run bench:query` on 100k clustered 384-d vectors (2 cores): efConstruction 100 / ef 96 gives
// recall@10 1.000, p99 6.7 ms, build 203 s; 200 / 96 built in 454 s for the same recall; 64 / 64 gave 0.983.
// The graph and the beam by size, at the default 512 d (`--efs` sweeps; docs/bench/query-1m.json, query.json,
// query-300k-m32.json, query-1m-m32.json). recall@10 at ef 64 / 96 / 128 / 192 / 256 / 384 / 512:
// - M 16: 1.000 throughout at 100k; 0.946 / 0.981 / 0.986 / 0.991 / 0.996 / 0.996 / 0.996 at 300k; 0.727 /
//   0.813 / 0.849 / 0.888 / 0.906 / 0.928 / 0.931 at 1M, where the beam levels off under 0.95: the graph is
//   too sparse, whatever the beam.
// - M 32: 0.995 / 1.000 at ef 64 / 96 at 300k; at 1M ef 96 / 128 / 192 / 256 / 384 gave 0.982 / 0.982 /
//   0.992 / 0.992 / 0.994 (p99 at k = 10: 6.2 / 7.4 / 9.6 ms at ef 96 / 128 / 192), for a 1.5× build
//   (93 min at 1M on one core, in the worker) and ~10% more memory.
// So a graph built for 300k photos or more has M 32 (a head switch rebuilds it as the library grows), and
// the beam rises from 96 at 300k to 192 at 1M, where M 32 is at 0.992.
export const DEFAULT_ANN_OPTIONS: AnnOptions = {
  m: 16,
  mBySize: [[300_000, 32]],
  efConstruction: 100,
  efSearch: 96,
  efBySize: [
    [300_000, 96],
    [1_000_000, 192],
  ],
  exactBelow: 3000,
  reconcileLimit: 0.2,
};

/** The degree of a graph built for `size` photos: the last point of mBySize at or under it, else options.m. */
export function mForSize(o: AnnOptions, size: number): number {
  let m = o.m;
  for (const [photos, degree] of o.mBySize) if (size >= photos) m = degree;
  return m;
}

/**
 * The search beam for a library of `size` photos: options.efSearch, raised for large libraries. Between
 * two points of efBySize the beam is interpolated linearly in log(size) (those sizes are not measured);
 * beyond the last it stays there (nothing larger was measured); never below efSearch.
 */
export function efForSize(o: AnnOptions, size: number): number {
  const pts = o.efBySize;
  const above = pts.findIndex(([n]) => n > size);
  let ef = 0;
  if (above < 0 && pts.length) ef = pts[pts.length - 1][1];
  else if (above > 0) {
    const [[n0, e0], [n1, e1]] = [pts[above - 1], pts[above]];
    ef = e0 + ((e1 - e0) * Math.log(size / n0)) / Math.log(n1 / n0);
  }
  return Math.max(o.efSearch, Math.ceil(ef));
}

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
 * A graph built in the worker for a head version, loaded and waiting for install(); for a library below
 * exactBelow, no graph (hnsw null): its head version's embeddings are answered exactly.
 */
export interface PreparedGraph {
  version: number;
  dim: number;
  readonly hnsw: Hnsw | null;
  readonly file: string | null;
  readonly checksum: string;
  readonly log: IndexOp[];
}

/** add/remove calls made while a graph was being built, replayed onto it when it is installed */
interface IndexOp {
  op: 'add' | 'remove';
  id: number;
}

/** A consistent read view: one graph and its head version, valid across awaits (a switch does not change it). */
export interface IndexView {
  headVersion: number;
  /** false when queries are answered exactly (no graph yet, or a small library) */
  approximate: boolean;
  search(query: Float32Array, k: number, accept?: (id: number) => boolean, ef?: number): Neighbor[];
  /** writes this view's graph to a new file (off this thread) and returns its path; approximate views only */
  snapshot(): Promise<string>;
}

/** Work the worker does before building a graph (a head switch). */
export interface PrepareJob {
  /** project the library's pooled vectors with the new head first, in the worker */
  reproject?: { modelId: string };
  /** head versions whose embeddings are deleted first (leftovers of an earlier switch) */
  drop?: number[];
}

class SupersededError extends Error {}

/**
 * The HNSW index over the active head's embeddings: a cache of SQLite, persisted beside the database
 * with a sidecar (head version, count, checksum). Graphs are built in a worker thread: when the saved
 * one is missing, stale or corrupt (queries are exact meanwhile), and for a new head (prepare/install),
 * while the previous graph keeps answering until the new one replaces it in one synchronous step.
 * A library below exactBelow has no graph at all: its queries are exact anyway, and each add into a
 * graph nobody searches cost the indexer's thread up to 1 ms (1,536-d vectors before whitening); the
 * graph is first built, in the worker, when the library reaches exactBelow.
 */
export class AnnIndex {
  readonly options: AnnOptions;
  private hnsw: Hnsw | null = null;
  private live = new Set<number>();
  private deleted = new Set<number>();
  /** ops recorded for the graph being built (null when none is) */
  private log: IndexOp[] | null = null;
  private build: { kill(): Promise<void>; token: object } | null = null;
  private generation = 0;
  private building: Promise<void> | null = null;
  private dirty = false;
  /** graph writes in flight (snapshots): adds and removes wait for them, hnswlib may reallocate on add */
  private writing = 0;
  private deferred: { op: IndexOp; vec?: Float32Array; generation: number }[] = [];
  private snapshots = 0;
  private saving: Promise<void> | null = null;
  headVersion = 0;
  dim = 0;
  state: IndexState = 'closed';
  lastLoad: LoadOutcome | null = null;
  /** called when a graph (or a small library's exact index) is installed: the index may have become ready */
  onInstalled: (() => void) | null = null;
  /** progress of the worker build in flight, if any (for status and tests) */
  onBuildProgress:
    ((p: { version: number; phase: 'reproject' | 'build'; added: number; total: number }) => void) | null =
    null;

  constructor(
    private readonly store: Store,
    readonly dir: string,
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
    void this.stopBuild();
    this.headVersion = headVersion;
    this.dim = dim;
    this.hnsw = null;
    this.live = new Set();
    this.deleted = new Set();
    const outcome = this.tryLoad();
    this.lastLoad = outcome;
    if (outcome === 'loaded' || outcome === 'reconciled') this.state = 'ready';
    else if (this.needsGraph(this.store.indexedCount())) this.startRebuild();
    else this.installExact(headVersion, dim);
    return outcome;
  }

  /** Whether a library of `count` photos keeps a graph (else it is answered exactly, with none). */
  private needsGraph(count: number): boolean {
    return count >= this.options.exactBelow;
  }

  /** No graph for head `version` (a small library): every live id from SQLite; a saved graph is stale. */
  private installExact(version: number, dim: number): void {
    this.generation++;
    this.hnsw = null;
    this.live = new Set(this.store.embeddingIds(version));
    this.deleted = new Set();
    this.headVersion = version;
    this.dim = dim;
    this.state = 'ready';
    this.dirty = false;
    for (const f of [this.sidecarFile, this.indexFile]) fs.rmSync(f, { force: true });
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

  /** No graph for the current head: build one in the worker; queries are exact until it is installed. */
  private startRebuild(): void {
    this.state = 'building';
    const gen = this.generation;
    this.building = this.prepare(this.headVersion, this.dim).then(
      (g) => {
        if (gen === this.generation) this.install(g);
      },
      (err: Error) => {
        // A failed build leaves exact search in place; the next open tries again.
        if (!(err instanceof SupersededError)) process.emitWarning(`HNSW rebuild failed: ${err.message}`);
      },
    );
  }

  /**
   * Builds a graph over head `version`'s embeddings (as SQLite has them now) in a worker thread, while
   * this index keeps answering with its current graph. add/remove calls made meanwhile are recorded and
   * replayed by install(). A newer prepare() or open() supersedes this one (its promise rejects).
   */
  async prepare(version: number, dim: number, before: PrepareJob = {}): Promise<PreparedGraph> {
    void this.stopBuild();
    const token = {};
    const log: IndexOp[] = [];
    this.log = log;
    // the graph's degree follows the library's size when it is built (a head switch rebuilds it)
    const count = this.store.indexedCount();
    const withGraph = this.needsGraph(count);
    const file = withGraph ? `${this.indexFile}.build-${process.pid}-${version}` : null;
    const job = startGraphBuild(
      {
        dbDir: this.dir,
        drop: before.drop,
        headVersion: version,
        reproject: before.reproject,
        build: file
          ? {
              dim,
              m: mForSize(this.options, count),
              efConstruction: this.options.efConstruction,
              outFile: file,
            }
          : undefined,
      },
      (phase, added, total) => this.onBuildProgress?.({ version, phase, added, total }),
    );
    this.build = { kill: job.kill, token };
    const mine = () => this.build?.token === token;
    try {
      const built = await job.result;
      if (!mine()) throw new SupersededError('a newer index build replaced this one');
      if (!file) return { version, dim, hnsw: null, file, checksum: '', log };
      const hnsw = new HierarchicalNSW('ip', dim);
      // Reading a large graph takes long: off this thread (hnswlib-node reads on the libuv pool).
      await hnsw.readIndex(file);
      if (!mine()) throw new SupersededError('a newer index build replaced this one');
      return { version, dim, hnsw, file, checksum: built.checksum, log };
    } catch (err) {
      if (file) fs.rmSync(file, { force: true });
      // Stopped by a newer build, open() or close(): not a failure worth a warning.
      if (!mine()) throw err instanceof SupersededError ? err : new SupersededError('index build stopped');
      this.build = null;
      this.log = null;
      throw err;
    }
  }

  /** Deletes head versions' embeddings in the worker, in small transactions (a switch's leftovers). */
  async dropVersions(versions: number[]): Promise<void> {
    await startGraphBuild({ dbDir: this.dir, drop: versions }).result;
  }

  /** Stops the graph build in flight, if any (closing): its prepare() rejects, the current graph stays. */
  stopBuilding(): Promise<void> {
    return this.stopBuild();
  }

  /** The build in flight, if any, as a handle tests use to crash it. */
  get buildInFlight(): { kill(): Promise<void> } | null {
    return this.build;
  }

  private async stopBuild(): Promise<void> {
    const b = this.build;
    this.build = null;
    this.log = null;
    if (b) await b.kill();
  }

  /**
   * Makes a prepared graph the index, in one synchronous step: the calls recorded during its build are
   * replayed (adds read the graph's own head version from SQLite, so the caller writes those first),
   * its file becomes the saved index, and every later query uses it.
   */
  install(g: PreparedGraph): void {
    if (this.log !== g.log) throw new Error('install: this graph was superseded by a newer build');
    if (!g.hnsw) {
      // SQLite already has every embedding of the version (the caller caught them up): nothing to replay.
      this.build = null;
      this.log = null;
      this.installExact(g.version, g.dim);
      // photos indexed during the switch may have brought the library to exactBelow
      if (this.needsGraph(this.live.size)) this.startRebuild();
      this.onInstalled?.();
      return;
    }
    const live = new Set(g.hnsw.getIdsList());
    const deleted = new Set<number>();
    for (const { op, id } of g.log) {
      if (op === 'remove') {
        if (!live.delete(id)) continue;
        g.hnsw.markDelete(id);
        deleted.add(id);
        continue;
      }
      const v = this.store.getEmbedding(id, g.version);
      if (!v) continue;
      if (g.hnsw.getCurrentCount() >= g.hnsw.getMaxElements())
        g.hnsw.resizeIndex(Math.max(1024, Math.ceil(g.hnsw.getMaxElements() * 1.5)));
      g.hnsw.addPoint(Array.from(v), id);
      live.add(id);
      deleted.delete(id);
    }
    this.generation++;
    this.build = null;
    this.log = null;
    this.hnsw = g.hnsw;
    this.live = live;
    this.deleted = deleted;
    this.headVersion = g.version;
    this.dim = g.dim;
    this.state = 'ready';
    // The worker's file is the graph before the replay: saved as such (sidecar included), and marked
    // dirty when the replay changed anything (a crash before the next save reconciles on open).
    fs.renameSync(g.file!, this.indexFile);
    this.writeSidecar(fs.statSync(this.indexFile).size, g.checksum, []);
    this.dirty = g.log.length > 0;
    this.onInstalled?.();
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
    this.log?.push({ op: 'add', id });
    if (this.state !== 'ready') return;
    if (!this.hnsw) {
      this.live.add(id);
      // The library has just reached exactBelow: its first graph is built from SQLite, which has this photo.
      if (this.needsGraph(this.live.size)) this.startRebuild();
      return;
    }
    if (this.writing) this.deferred.push({ op: { op: 'add', id }, vec, generation: this.generation });
    else this.addNow(id, vec);
  }

  remove(id: number): void {
    this.log?.push({ op: 'remove', id });
    if (this.state !== 'ready') return;
    if (!this.hnsw) {
      this.live.delete(id);
      return;
    }
    if (this.writing) this.deferred.push({ op: { op: 'remove', id }, generation: this.generation });
    else this.removeNow(id);
  }

  private async writeSnapshot(h: Hnsw): Promise<string> {
    const file = `${this.indexFile}.snapshot-${process.pid}-${++this.snapshots}`;
    this.writing++;
    try {
      await h.writeIndex(file);
    } catch (err) {
      fs.rmSync(file, { force: true });
      throw err;
    } finally {
      if (--this.writing === 0) {
        // Ops deferred for a graph that a switch has since replaced were replayed onto the new one.
        const ops = this.deferred.filter((d) => d.generation === this.generation);
        this.deferred = [];
        for (const { op, vec } of ops) {
          if (op.op === 'add') this.addNow(op.id, vec!);
          else this.removeNow(op.id);
        }
      }
    }
    return file;
  }

  private addNow(id: number, vec: Float32Array): void {
    const h = this.hnsw!;
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

  /** The search beam for a library of `size` photos (see DEFAULT_ANN_OPTIONS). */
  efFor(size: number): number {
    return efForSize(this.options, size);
  }

  /** k nearest by cosine, best first; `accept` filters ids (folder, date, not-self). */
  search(query: Float32Array, k: number, accept?: (id: number) => boolean): Neighbor[] {
    return this.view().search(query, k, accept);
  }

  /**
   * The current graph and head version as one view: a caller that awaits between searches (duplicates)
   * keeps querying the graph it started with, even if a head switch installs another meanwhile.
   */
  view(): IndexView {
    const { hnsw: h, live, headVersion } = this;
    if (this.exact || !h) {
      return {
        headVersion,
        approximate: false,
        search: (q, k, accept) => (k <= 0 ? [] : exactSearch(this.store, headVersion, q, k, accept)),
        snapshot: () => Promise.reject(new Error('no graph to snapshot: search is exact')),
      };
    }
    // The beam is set on every search, from the live size when the view is taken: a growing library's
    // beam follows it (a graph's own ef, as loaded or built, is never used).
    const baseEf = this.efFor(live.size);
    return {
      headVersion,
      approximate: true,
      search: (query, k, accept, ef = baseEf) => {
        const kk = Math.min(k, live.size);
        if (kk <= 0) return [];
        h.setEf(Math.max(ef, kk));
        const res = h.searchKnn(Array.from(query), kk, accept);
        const out: Neighbor[] = res.neighbors.map((id, i) => ({ id, score: 1 - res.distances[i] }));
        out.sort((x, y) => y.score - x.score);
        return out;
      },
      snapshot: () => this.writeSnapshot(h),
    };
  }

  /** Writes the index and its sidecar (atomically, index first) if anything changed. Blocks: for close(). */
  save(): void {
    if (this.state !== 'ready' || !this.hnsw || !this.dirty) return;
    const tmp = `${this.indexFile}.tmp-${process.pid}`;
    this.hnsw.writeIndexSync(tmp);
    const bytes = fs.statSync(tmp).size;
    const checksum = fileSha1(tmp);
    fs.renameSync(tmp, this.indexFile);
    this.writeSidecar(bytes, checksum, [...this.deleted]);
    this.dirty = false;
  }

  /**
   * save(), with the graph written and hashed off this thread (a 100k graph is ~220 MB); adds and
   * removes made meanwhile wait and are applied after the write, and leave the index dirty.
   */
  async saveInBackground(): Promise<void> {
    if (this.state !== 'ready' || !this.hnsw || !this.dirty || this.saving) return this.saving ?? undefined;
    const generation = this.generation;
    const deleted = [...this.deleted];
    const count = this.live.size;
    this.dirty = false;
    this.saving = (async () => {
      let file: string | undefined;
      try {
        file = await this.writeSnapshot(this.hnsw!);
        const checksum = await fileSha1Async(file);
        if (generation !== this.generation) return; // a new graph replaced this one meanwhile
        const bytes = fs.statSync(file).size;
        fs.renameSync(file, this.indexFile);
        file = undefined;
        this.writeSidecar(bytes, checksum, deleted, count);
      } catch (err) {
        if (generation === this.generation) this.dirty = true;
        process.emitWarning(`saving the HNSW index failed: ${(err as Error).message}`);
      } finally {
        if (file) fs.rmSync(file, { force: true });
        this.saving = null;
      }
    })();
    return this.saving;
  }

  private writeSidecar(bytes: number, checksum: string, deleted: number[], count = this.live.size): void {
    const side: Sidecar = {
      format: 1,
      headVersion: this.headVersion,
      dim: this.dim,
      count,
      checksum,
      bytes,
      deleted,
      savedAt: Date.now(),
    };
    writeFileAtomic(this.sidecarFile, JSON.stringify(side));
  }

  close(): void {
    try {
      if (this.saving) this.dirty = true; // the background save is discarded (generation changes below)
      this.save();
    } finally {
      void this.stopBuild();
      this.generation++;
      this.hnsw = null;
      this.state = 'closed';
    }
  }
}
