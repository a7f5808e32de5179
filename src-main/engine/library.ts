import fs from 'node:fs';
import path from 'node:path';
import { headOutDim } from './head/head-types';
import { AnnIndex, type AnnOptions } from './index/ann-index';
import type { PhotoEmbedder } from './embed/photo-embedder';
import { HeadManager } from './pipeline/head-manager';
import { DEFAULT_HEAD_OPS, type HeadOps } from './pipeline/head-ops';
import {
  Indexer,
  type IndexerEvents,
  type IndexerOptions,
  type IndexProgress,
  type IndexSummary,
} from './pipeline/indexer';
import { TypedEmitter } from './pipeline/typed-emitter';
import { findDuplicates } from './query/duplicates';
import { validateBox } from './query/region';
import { searchByVector, type QueryContext } from './query/search';
import type { Box, DuplicateGroup, SearchHit, SearchOptions } from './query/types';
import { syncFolder, type ScanReport } from './scan/sync-folder';
import { FolderWatcher } from './scan/watch-folders';
import { Store } from './store/store';
import type {
  AlbumRow,
  FolderRow,
  HeadRow,
  HeadSummary,
  PhotoRow,
  PhotoStatus,
  StatusCounts,
} from './store/types';

export interface LibraryOptions {
  ann?: Partial<AnnOptions>;
  indexer?: Partial<IndexerOptions>;
  /** head math; defaults to the head module (src-main/engine/head) */
  headOps?: HeadOps;
  /** watch folders and index changes automatically (the app); off for the CLI and tests */
  watch?: boolean;
  watchDebounceMs?: number;
}

export interface LibraryStatus {
  photos: StatusCounts;
  folders: number;
  modelId: string;
  head: { version: number; kind: string; combo: string; dim: number };
  indexing: IndexProgress | null;
  index: { ready: boolean; exact: boolean; size: number };
}

export interface LibraryEvents extends IndexerEvents {
  scan: ScanReport;
  /** photos, folders or albums changed */
  changed: { reason: string };
  warning: string;
}

/**
 * The photo library: folders on disk, kept in sync with SQLite (the truth) and an HNSW index (a
 * cache), indexed by an injected embedder, answering similarity queries. Transport-agnostic: the
 * desktop app, the HTTP server, the CLI and the benchmarks all drive this class.
 */
export class Library extends TypedEmitter<LibraryEvents> {
  private watcher: FolderWatcher | null = null;
  private scanning = new Map<number, Promise<ScanReport>>();
  private closed = false;

  private constructor(
    readonly dbDir: string,
    readonly store: Store,
    readonly index: AnnIndex,
    readonly heads: HeadManager,
    readonly indexer: Indexer,
    readonly embedder: PhotoEmbedder,
    private readonly opts: LibraryOptions,
  ) {
    super();
    for (const e of ['progress', 'photo', 'done', 'head'] as const) {
      indexer.on(e, (p) => this.emit(e, p as never));
    }
    indexer.on('done', () => this.emit('changed', { reason: 'indexed' }));
  }

  /** Opens (or creates) the library in `dbDir`. Throws DatabaseFolderError if the folder is unusable. */
  static async open(dbDir: string, embedder: PhotoEmbedder, opts: LibraryOptions = {}): Promise<Library> {
    const dir = path.resolve(dbDir);
    const store = Store.open(dir);
    try {
      store.markInterruptedJobs();
      const requeued = store.requeueOtherModels(embedder.modelId);
      const ops = opts.headOps ?? DEFAULT_HEAD_OPS;
      const index = new AnnIndex(store, dir, opts.ann);
      const heads = new HeadManager(store, index, ops, embedder);
      const head = heads.ensure();
      index.open(head.version, headOutDim(head.weights));
      const indexer = new Indexer(store, index, heads, embedder, path.join(dir, 'thumbs'), opts.indexer);
      const lib = new Library(dir, store, index, heads, indexer, embedder, opts);
      if (requeued)
        lib.emit('warning', `${requeued} photos were indexed with another model and will be indexed again`);
      if (opts.watch) lib.setWatching(true);
      return lib;
    } catch (err) {
      store.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.close();
    if (this.indexer.isRunning) {
      this.indexer.cancel();
      await this.indexer.run().catch(() => undefined);
    }
    await Promise.allSettled([...this.scanning.values()]);
    this.index.close();
    this.store.close();
  }

  // ── folders ────────────────────────────────────────────────────────────────

  /** Registers a folder (nested folders are merged into the outermost) and scans it. */
  async addFolder(dir: string): Promise<{ folder: FolderRow; scan: ScanReport }> {
    let real: string;
    try {
      real = fs.realpathSync(path.resolve(dir));
      if (!fs.statSync(real).isDirectory()) throw new Error('not a folder');
    } catch (err) {
      throw new Error(
        `Cannot add ${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (err as Error).message}`,
      );
    }
    const folders = this.store.listFolders();
    const inside = (child: string, parent: string) =>
      child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
    const outer = folders.find((f) => inside(real, f.path));
    const folder = outer ?? this.store.addFolder(real);
    // A parent of existing folders absorbs them (their photos keep their ids).
    for (const f of outer ? [] : folders) {
      if (!inside(f.path, real)) continue;
      this.store.mergeFolder(f.id, folder.id);
      this.watcher?.unwatch(f.id);
    }
    this.watcher?.watch(folder.id, folder.path);
    const scan = await this.rescanFolder(folder.id);
    return { folder, scan };
  }

  removeFolder(folderId: number): boolean {
    const f = this.store.listFolders().find((x) => x.id === folderId);
    if (!f) return false;
    this.watcher?.unwatch(folderId);
    const ids = this.store.removeFolder(folderId);
    for (const id of ids) {
      this.index.remove(id);
      fs.rmSync(this.indexer.thumbnailPath(id), { force: true });
    }
    this.index.save();
    this.emit('changed', { reason: 'folder removed' });
    return true;
  }

  listFolders(): (FolderRow & { photoCount: number })[] {
    const counts = this.store.folderPhotoCounts();
    return this.store.listFolders().map((f) => ({ ...f, photoCount: counts.get(f.id) ?? 0 }));
  }

  /** Incremental rescan of one folder (or all); the index follows (missing/changed out, restored back in). */
  async rescan(folderId?: number): Promise<ScanReport[]> {
    const ids = folderId === undefined ? this.store.listFolders().map((f) => f.id) : [folderId];
    const out: ScanReport[] = [];
    for (const id of ids) out.push(await this.rescanFolder(id));
    return out;
  }

  private rescanFolder(folderId: number): Promise<ScanReport> {
    // One scan per folder at a time; a second request waits for it and then runs again.
    const prev = this.scanning.get(folderId) ?? Promise.resolve(null);
    const next = prev
      .catch(() => null)
      .then(async () => {
        const folder = this.store.listFolders().find((f) => f.id === folderId);
        if (!folder) throw new Error(`No library folder with id ${folderId}`);
        const report = await syncFolder(this.store, folder);
        const version = this.heads.active.version;
        for (const id of [...report.missing, ...report.changed]) this.index.remove(id);
        for (const id of report.restored) {
          const v = this.store.getEmbedding(id, version);
          if (v) this.index.add(id, v);
        }
        this.emit('scan', report);
        if (
          report.added.length +
          report.changed.length +
          report.moved.length +
          report.missing.length +
          report.restored.length
        ) {
          this.emit('changed', { reason: 'scan' });
        }
        return report;
      });
    this.scanning.set(folderId, next);
    void next
      .finally(() => this.scanning.get(folderId) === next && this.scanning.delete(folderId))
      .catch(() => undefined);
    return next;
  }

  setWatching(on: boolean): void {
    if (!on) {
      this.watcher?.close();
      this.watcher = null;
      return;
    }
    if (this.watcher) return;
    this.watcher = new FolderWatcher(
      (folderId) => {
        void this.rescanFolder(folderId)
          .then((r) => {
            if (r.added.length || r.changed.length) void this.startIndexing();
          })
          .catch((err: Error) => this.emit('warning', err.message));
      },
      this.opts.watchDebounceMs,
      (m) => this.emit('warning', m),
    );
    for (const f of this.store.listFolders()) this.watcher.watch(f.id, f.path);
  }

  // ── indexing ───────────────────────────────────────────────────────────────

  /** Indexes all pending photos; resolves when the run ends (done or cancelled). Joins a running run. */
  startIndexing(): Promise<IndexSummary> {
    return this.indexer.run();
  }

  pause(): boolean {
    return this.indexer.pause();
  }

  resume(): boolean {
    return this.indexer.resume();
  }

  cancel(): boolean {
    return this.indexer.cancel();
  }

  get isIndexing(): boolean {
    return this.indexer.isRunning;
  }

  status(): LibraryStatus {
    const h = this.heads.active;
    return {
      photos: this.store.counts(),
      folders: this.store.listFolders().length,
      modelId: this.embedder.modelId,
      head: { version: h.version, kind: h.kind, combo: h.combo, dim: headOutDim(h.weights) },
      indexing: this.indexer.isRunning ? this.indexer.lastProgress : null,
      index: { ready: this.index.state === 'ready', exact: this.index.exact, size: this.index.size },
    };
  }

  /** Resolves once the HNSW index is built (queries work before that, exactly). */
  whenIndexReady(): Promise<void> {
    return this.index.whenReady();
  }

  // ── photos ─────────────────────────────────────────────────────────────────

  getPhoto(id: number): PhotoRow | undefined {
    return this.store.getPhoto(id);
  }

  /** The photo at a file path: as given (absolute), else at its real path (links, case of the folder). */
  photoByPath(file: string): PhotoRow | undefined {
    const p = path.resolve(file);
    const direct = this.store.photoByPath(p);
    if (direct) return direct;
    try {
      return this.store.photoByPath(fs.realpathSync(p));
    } catch {
      return undefined;
    }
  }

  listPhotos(
    opts: { status?: PhotoStatus; folderId?: number; limit?: number; offset?: number } = {},
  ): PhotoRow[] {
    return this.store.listPhotos(opts);
  }

  thumbnailPath(id: number): string {
    return this.indexer.thumbnailPath(id);
  }

  // ── queries ────────────────────────────────────────────────────────────────

  private get ctx(): QueryContext {
    return { store: this.store, index: this.index, headVersion: () => this.heads.active.version };
  }

  /** Photos most similar to a library photo (itself excluded). */
  similar(photoId: number, opts: SearchOptions = {}): SearchHit[] {
    const v = this.store.getEmbedding(photoId, this.heads.active.version);
    if (!v) {
      const p = this.store.getPhoto(photoId);
      throw new Error(
        p
          ? `Photo ${photoId} (${p.path}) is not indexed (status ${p.status})`
          : `No photo with id ${photoId}`,
      );
    }
    return searchByVector(this.ctx, v, opts, new Set([photoId]));
  }

  searchByVector(vector: Float32Array, opts: SearchOptions = {}): SearchHit[] {
    if (vector.length !== this.heads.dim)
      throw new Error(`Query vector has ${vector.length} dimensions, the index ${this.heads.dim}`);
    return searchByVector(this.ctx, vector, opts);
  }

  /** Embeds an image from outside the library (path or bytes) and searches with it. */
  async searchByImage(image: string | Buffer, opts: SearchOptions = {}): Promise<SearchHit[]> {
    return searchByVector(this.ctx, await this.embedImage(image), opts);
  }

  /** Query by a region of a library photo (box in fractions of the displayed image). */
  async searchByRegion(photoId: number, box: Box, opts: SearchOptions = {}): Promise<SearchHit[]> {
    const p = this.store.getPhoto(photoId);
    if (!p) throw new Error(`No photo with id ${photoId}`);
    validateBox(box);
    return searchByVector(this.ctx, await this.embedImage(p.path, { region: box }), opts);
  }

  /** Copies (copy score ≥ threshold) and near-duplicates; see query/duplicates.ts. */
  async duplicates(threshold?: number): Promise<DuplicateGroup[]> {
    return findDuplicates(this.ctx, {
      threshold,
      // Photos indexed before fingerprints existed get theirs now (a decode, no model run).
      fingerprintOf: async (p) => {
        const f = (await this.embedder.decode(p.path, { thumbnail: false }).catch(() => null))?.fingerprint;
        if (f) this.store.setFingerprint(p.id, f);
        return f;
      },
    });
  }

  /** Embedding of any image (path or bytes), optionally of a region of it, with the active head. */
  async embedImage(
    image: string | Buffer,
    request: { region?: Box; label?: string } = {},
  ): Promise<Float32Array> {
    const decoded = await this.embedder.decode(image, { ...request, thumbnail: false });
    const [pooled] = await this.embedder.embed([decoded.tensor]);
    return this.heads.project([pooled])[0];
  }

  // ── albums ─────────────────────────────────────────────────────────────────

  createAlbum(name: string): AlbumRow {
    const id = this.store.createAlbum(name);
    this.emit('changed', { reason: 'album' });
    return this.store.listAlbums().find((a) => a.id === id)!;
  }

  renameAlbum(id: number, name: string): boolean {
    const ok = this.store.renameAlbum(id, name);
    if (ok) this.emit('changed', { reason: 'album' });
    return ok;
  }

  deleteAlbum(id: number): boolean {
    const ok = this.store.deleteAlbum(id);
    if (ok) this.emit('changed', { reason: 'album' });
    return ok;
  }

  listAlbums(): AlbumRow[] {
    return this.store.listAlbums();
  }

  addToAlbum(albumId: number, photoIds: number[]): number {
    const n = this.store.addToAlbum(albumId, photoIds);
    this.emit('changed', { reason: 'album' });
    return n;
  }

  removeFromAlbum(albumId: number, photoIds: number[]): number {
    const n = this.store.removeFromAlbum(albumId, photoIds);
    this.emit('changed', { reason: 'album' });
    return n;
  }

  albumPhotoIds(albumId: number): number[] {
    return this.store.albumPhotoIds(albumId);
  }

  // ── heads ──────────────────────────────────────────────────────────────────

  listHeads(): HeadSummary[] {
    return this.store.listHeads();
  }

  /** Adopts a head version (also the way back to an earlier one); the index rebuilds in the background. */
  async useHead(version: number): Promise<Omit<HeadRow, 'weights'>> {
    const { weights: _w, ...h } = await this.heads.adopt(version);
    this.emit('head', { version: h.version, kind: h.kind });
    return h;
  }
}
