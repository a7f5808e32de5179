import fs from 'node:fs';
import path from 'node:path';
import { BusyError, InvalidInputError, NotFoundError, NotReadyError } from './errors';
import { headOutDim } from './head/head-types';
import { AnnIndex, type AnnOptions } from './index/ann-index';
import type { PhotoEmbedder } from './embed/photo-embedder';
import { FineTuneJob } from './finetune/finetune-job';
import type { EpochProgress, FineTuneOutcome, TrainingState } from './finetune/training-state';
import type { FinetuneOptions } from './finetune/trainer';
import { buildTrainingSet } from './finetune/training-set';
import { silentLogger, type Logger } from './log/logger';
import { HeadManager } from './pipeline/head-manager';
import { DEFAULT_HEAD_OPS, type HeadOps } from './head/head-ops';
import {
  Indexer,
  type IndexerEvents,
  type IndexerOptions,
  type IndexProgress,
  type IndexSummary,
  THUMBNAILS_FOLDER,
} from './pipeline/indexer';
import { TypedEmitter } from './pipeline/typed-emitter';
import { DuplicateFinder } from './query/duplicates';
import { validateBox } from './query/region';
import { searchByVector, type QueryContext } from './query/search';
import type { DuplicateGroup, SearchHit, SearchOptions } from './query/types';
import type { Box } from './decode/box';
import { checkNewFolder } from './scan/folder-check';
import { emptyScanReport, syncFolder, type ScanReport } from './scan/sync-folder';
import { isInsideFolder } from './scan/inside-folder';
import { FolderWatcher } from './scan/watch-folders';
import { folderAvailable, folderPresence } from './scan/folder-presence';
import { PHOTO_EXTENSIONS } from './scan/walk';
import { integrityCheckInWorker } from './store/integrity';
import { LibraryLockedError, WriteLock } from './store/library-lock';
import { DB_FILE } from './store/open-database';
import {
  albumPresence,
  albumsOfPhoto,
  failurePage,
  photoIdRange,
  photoPage,
  type AlbumPresence,
  type PhotoPageQuery,
} from './store/photo-listing';
import { Store } from './store/store';
import { describeWriteError, errorCode } from './store/write-errors';
import type { AlbumRow, FolderRow, HeadSummary, PhotoRow, PhotoStatus, StatusCounts } from './store/types';

export interface LibraryOptions {
  ann?: Partial<AnnOptions>;
  indexer?: Partial<IndexerOptions>;
  /** head math; defaults to the head module (src-main/engine/head) */
  headOps?: HeadOps;
  /** watch folders and index changes automatically (the app); off for the CLI and tests */
  watch?: boolean;
  watchDebounceMs?: number;
  /** open to read only (similar, status): never take the write lock, so a concurrent indexer is not refused */
  readOnly?: boolean;
  /** run the full integrity_check this long after open, when not indexing (ms; default: with `watch`, 60 s) */
  integrityCheckAfterMs?: number;
  /** overrides of the fine-tune defaults (tests: fewer epochs) */
  fineTune?: Partial<FinetuneOptions>;
  /** where the fine-tuning worker's lines and outcomes go */
  log?: Logger;
}

export interface LibraryStatus {
  photos: StatusCounts;
  folders: number;
  modelId: string;
  head: { version: number; kind: string; combo: string; dim: number };
  indexing: IndexProgress | null;
  index: { ready: boolean; exact: boolean; size: number };
  /** library folders not reachable now (unmounted drive, renamed): their photos are left out of results */
  unavailableFolders: FolderRow[];
  /** another process writes this library (indexing); this one only reads */
  lockedBy: number | null;
  /** problems found by the last full integrity check, if any */
  integrity: string[] | null;
}

export interface LibraryEvents extends IndexerEvents {
  scan: ScanReport;
  /** photos, folders or albums changed */
  changed: { reason: string };
  warning: string;
  'finetune.progress': EpochProgress;
  'finetune.done': FineTuneOutcome;
  /** the index became ready (status): the head learned after a run in use, or a graph built */
  indexReady: undefined;
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
  private writeLock: WriteLock | null = null;
  private lockedBy: number | null = null;
  private integrityProblems: string[] | null = null;
  private integrityTimer: NodeJS.Timeout | null = null;
  /** messages from opening (emitted before anyone could listen), e.g. an index rebuilt after damage */
  readonly openWarnings: string[] = [];
  private readonly fineTune: FineTuneJob;
  private readonly duplicateFinder: DuplicateFinder;

  private constructor(
    readonly dbDir: string,
    private readonly store: Store,
    private readonly index: AnnIndex,
    private readonly heads: HeadManager,
    private readonly indexer: Indexer,
    private readonly embedder: PhotoEmbedder,
    private readonly opts: LibraryOptions,
  ) {
    super();
    this.duplicateFinder = new DuplicateFinder(this.ctx, dbDir);
    for (const e of ['progress', 'photo', 'done', 'head'] as const) {
      indexer.on(e, (p) => this.emit(e, p as never));
    }
    indexer.on('settled', () => this.emitIfReady());
    index.onInstalled = () => this.emitIfReady();
    indexer.on('done', () => this.emit('changed', { reason: 'indexed' }));
    // The one fine-tuning job: it reaches the library only through these two calls.
    this.fineTune = new FineTuneJob(
      {
        trainingSet: (albumIds) =>
          buildTrainingSet(
            {
              albums: store.listAlbums(),
              albumPhotoIds: (id) => store.albumPhotoIds(id),
              modelId: embedder.modelId,
              pooled: (id) => store.getPooled(id),
              isIndexed: (id) => store.getPhoto(id)?.status === 'indexed',
              indexedIds: () => store.pooledIds(embedder.modelId),
              activeHead: heads.active.weights,
            },
            albumIds,
          ),
        keepCandidate: async (c) => {
          const version = store.insertHead({
            modelId: embedder.modelId,
            kind: 'trained',
            trainedOn: c.trainedOn,
            weights: c.weights,
            metrics: c.metrics,
          });
          if (c.adopted) await this.adoptHead(version);
          return version;
        },
      },
      {
        progress: (p) => this.emit('finetune.progress', p),
        done: (d) => this.emit('finetune.done', d),
      },
      opts.fineTune,
      opts.log ?? silentLogger,
    );
  }

  /** Opens (or creates) the library in `dbDir`. Throws DatabaseFolderError if the folder is unusable. */
  static async open(dbDir: string, embedder: PhotoEmbedder, opts: LibraryOptions = {}): Promise<Library> {
    const dir = path.resolve(dbDir);
    const store = Store.open(dir);
    // One writer per library; a second process opens it to read (similar, status) and refuses to index.
    let lock: WriteLock | { heldBy: number } | null = null;
    try {
      lock = opts.readOnly ? { heldBy: WriteLock.holder(dir) ?? 0 } : WriteLock.tryAcquire(dir);
      const writer = lock instanceof WriteLock;
      if (writer) store.markInterruptedJobs();
      const requeued = writer ? store.requeueOtherModels(embedder.modelId) : 0;
      const ops = opts.headOps ?? DEFAULT_HEAD_OPS;
      const index = new AnnIndex(store, dir, opts.ann);
      const heads = new HeadManager(store, index, ops, embedder);
      const head = heads.ensure();
      const loaded = index.open(head.version, headOutDim(head.weights));
      const indexer = new Indexer(
        store,
        index,
        heads,
        embedder,
        path.join(dir, THUMBNAILS_FOLDER),
        opts.indexer,
      );
      const lib = new Library(dir, store, index, heads, indexer, embedder, opts);
      if (lock instanceof WriteLock) lib.writeLock = lock;
      else lib.lockedBy = lock.heldBy || null;
      if (requeued)
        lib.openWarnings.push(`${requeued} photos were indexed with another model and will be indexed again`);
      if (loaded === 'corrupt')
        lib.openWarnings.push(
          'The search index file was damaged; it is being rebuilt from the database (nothing is lost, searches are exact meanwhile)',
        );
      // After the caller has had a chance to listen.
      for (const m of lib.openWarnings) setImmediate(() => lib.emit('warning', m));
      if (opts.watch && writer) lib.setWatching(true);
      const checkAfter = opts.integrityCheckAfterMs ?? (opts.watch ? 60_000 : undefined);
      if (checkAfter !== undefined) lib.scheduleIntegrityCheck(checkAfter);
      return lib;
    } catch (err) {
      if (lock instanceof WriteLock) lock.release();
      store.close();
      throw err;
    }
  }

  /** Takes the write lock if this instance does not hold it yet, else throws LibraryLockedError. */
  claimWriter(): void {
    if (this.writeLock) return;
    const lock = WriteLock.tryAcquire(this.dbDir);
    if (!(lock instanceof WriteLock)) {
      this.lockedBy = lock.heldBy;
      throw new LibraryLockedError(lock.heldBy, this.dbDir);
    }
    // The previous writer finished or crashed: this one takes over.
    this.writeLock = lock;
    this.lockedBy = null;
    this.store.markInterruptedJobs();
  }

  get isWriter(): boolean {
    return this.writeLock !== null;
  }

  /** Full integrity_check in a worker once the library has been idle for `afterMs` (retried while indexing). */
  private scheduleIntegrityCheck(afterMs: number): void {
    this.integrityTimer = setTimeout(() => {
      if (this.closed) return;
      if (this.isIndexing) return this.scheduleIntegrityCheck(afterMs);
      void this.checkIntegrity().catch((err: Error) =>
        this.emit('warning', `the database check could not run: ${err.message}`),
      );
    }, afterMs);
    this.integrityTimer.unref();
  }

  /** Runs the full integrity_check (off the main thread); reports problems as a warning and in status. */
  async checkIntegrity(): Promise<string[]> {
    const problems = await integrityCheckInWorker(path.join(this.dbDir, DB_FILE));
    this.integrityProblems = problems;
    if (problems.length)
      this.emit(
        'warning',
        `The library database in ${this.dbDir} is damaged (${problems.slice(0, 3).join('; ')}). Run "likeness recover --db ${this.dbDir}" to rebuild it from your folders, keeping albums where they can be read.`,
      );
    return problems;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // The app gives up a head still being learned (the next run learns it again); a short-lived process
    // (the CLI) leaves the library with the head its run asked for, below.
    if (this.opts.watch) this.heads.close();
    if (this.integrityTimer) clearTimeout(this.integrityTimer);
    this.watcher?.close();
    await this.fineTune.close();
    await this.duplicateFinder.close();
    if (this.indexer.isRunning) {
      this.indexer.cancel();
      await this.indexer.run().catch(() => undefined);
    }
    await Promise.allSettled([...this.scanning.values()]);
    // A rebuild after damage is finished before a short-lived process (the CLI) exits: healed on first use.
    if (this.index.lastLoad === 'corrupt' && !this.opts.watch) await this.index.whenReady();
    if (!this.opts.watch) await this.whenHeadSettled();
    this.heads.close();
    await this.index.stopBuilding();
    await this.whenHeadSettled();
    try {
      this.index.close();
    } finally {
      this.store.close();
      this.writeLock?.release();
    }
  }

  // ── folders ────────────────────────────────────────────────────────────────

  /**
   * Registers a folder (nested folders are merged into the outermost) and scans it. The folder passes
   * checkNewFolder first (real path, no system folders; `confirm` for the disk root or > 100k files).
   */
  async addFolder(
    dir: string,
    opts: { confirm?: boolean } = {},
  ): Promise<{ folder: FolderRow; scan: ScanReport }> {
    this.claimWriter();
    const real = checkNewFolder(dir, opts);
    const folders = this.store.listFolders();
    const outer = folders.find((f) => isInsideFolder(real, f.path));
    const folder = outer ?? this.store.addFolder(real);
    // A parent of existing folders absorbs them (their photos keep their ids).
    for (const f of outer ? [] : folders) {
      if (!isInsideFolder(f.path, real)) continue;
      this.store.mergeFolder(f.id, folder.id);
      this.watcher?.unwatch(f.id);
    }
    this.watcher?.watch(folder.id, folder.path);
    const scan = await this.rescanFolder(folder.id);
    return { folder, scan };
  }

  /**
   * Adding a folder from the app: addFolder, with the two answers a user needs instead of a silent no-op:
   * the folder (or a parent of it) is already in the library, and the folder has no photos (then it is
   * not kept). The CLI and recovery keep addFolder's lenient behaviour: adding a known folder rescans it.
   */
  async addNewFolder(dir: string, opts: { confirm?: boolean } = {}): Promise<FolderRow> {
    const known = this.folderHolding(dir);
    if (known)
      throw new InvalidInputError(
        known.real === known.folder.path
          ? `${known.folder.path} is already in the library`
          : `${dir} is already in the library, as part of ${known.folder.path}`,
      );
    const added = await this.addFolder(dir, opts);
    if (added.scan.seen === 0) {
      // Nothing to index: keep the library as it was rather than a folder that shows "0 photos".
      this.removeFolder(added.folder.id);
      throw new InvalidInputError(
        `No photos in this folder: ${added.folder.path} holds no ${[...PHOTO_EXTENSIONS].join(' ')} files, subfolders included`,
      );
    }
    return added.folder;
  }

  /** The library folder that already holds `dir` (the same folder or one above it), by real path. */
  private folderHolding(dir: string): { folder: FolderRow; real: string } | null {
    let real: string;
    try {
      real = fs.realpathSync(path.resolve(dir));
    } catch {
      return null; // addFolder says what is wrong with the path
    }
    const folder = this.store.listFolders().find((f) => isInsideFolder(real, f.path));
    return folder ? { folder, real } : null;
  }

  removeFolder(folderId: number): boolean {
    const f = this.store.listFolders().find((x) => x.id === folderId);
    if (!f) return false;
    this.claimWriter();
    this.watcher?.unwatch(folderId);
    this.forget(this.store.removeFolder(folderId));
    this.emit('changed', { reason: 'folder removed' });
    return true;
  }

  listFolders(): (FolderRow & { photoCount: number; unreadable: number; available: boolean })[] {
    const counts = this.store.folderPhotoCounts();
    return this.store.listFolders().map((f) => {
      const c = counts.get(f.id);
      const photoCount = c?.photos ?? 0;
      return {
        ...f,
        photoCount,
        unreadable: c?.unreadable ?? 0,
        available: folderAvailable(f.path, photoCount),
      };
    });
  }

  /** Folders gone from disk now (an unmounted drive): reported, and their photos left out of results. */
  unavailableFolders(): FolderRow[] {
    // Cheap on every query: the photo count is only needed for an empty folder.
    return this.store.listFolders().filter((f) => {
      const state = folderPresence(f.path);
      return state === 'gone' || (state === 'empty' && this.store.folderHasPhotos(f.id));
    });
  }

  /** Incremental rescan of one folder (or all); the index follows (missing/changed out, restored back in). */
  async rescan(folderId?: number): Promise<ScanReport[]> {
    this.claimWriter();
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
        if (!folder) throw new NotFoundError(`No library folder with id ${folderId}`);
        // A vanished folder (unmounted drive) is not scanned: its photos would all be marked missing.
        if (this.unavailableFolders().some((f) => f.id === folderId)) {
          this.emit('warning', unavailableMessage(folder.path));
          return emptyScanReport(folderId, 0, [
            { path: folder.path, error: unavailableMessage(folder.path) },
          ]);
        }
        let report: ScanReport;
        try {
          report = await syncFolder(this.store, folder);
        } catch (err) {
          // A full disk or read-only library: the scan's transaction rolled back; say what to do.
          throw errorCode(err) ? describeWriteError(err, this.dbDir) : err;
        }
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
    if (!this.indexer.isRunning) {
      try {
        this.claimWriter();
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.indexer.run();
  }

  /**
   * Starts indexing the pending photos, if any and no run is going on (then null). Throws
   * LibraryLockedError when another process writes the library; the run's own failure rejects the promise.
   */
  indexPending(): Promise<IndexSummary> | null {
    if (this.indexer.isRunning || this.store.counts().pending === 0) return null;
    this.claimWriter();
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

  /** photos per backbone run when indexing (the provider's, unless the options set one) */
  get indexBatchSize(): number {
    return this.indexer.options.batchSize;
  }

  /** Whether the index is settled: the head indexing asked for in use, its graph built (status's index.ready). */
  private get indexReady(): boolean {
    return this.index.state === 'ready' && !this.indexer.isLearning;
  }

  private emitIfReady(): void {
    if (this.indexReady) this.emit('indexReady', undefined);
  }

  status(): LibraryStatus {
    const h = this.heads.active;
    return {
      photos: this.store.counts(),
      folders: this.store.listFolders().length,
      modelId: this.embedder.modelId,
      head: { version: h.version, kind: h.kind, combo: h.combo, dim: headOutDim(h.weights) },
      indexing: this.indexer.isRunning ? this.indexer.lastProgress : null,
      // not ready while a graph is built or a new head learned and switched to (queries are answered)
      index: {
        ready: this.indexReady,
        exact: this.index.exact,
        size: this.index.size,
      },
      unavailableFolders: this.unavailableFolders(),
      lockedBy: this.writeLock ? null : this.lockedBy,
      integrity: this.integrityProblems,
    };
  }

  /**
   * Resolves once the index is what status calls ready: the head that indexing asked for learned and
   * switched to (or judged no better; a run ends when its photos are searchable, and this follows it by
   * a few seconds), and its HNSW graph built. Queries are answered before that.
   */
  async whenIndexReady(): Promise<void> {
    await this.whenHeadSettled();
    await this.index.whenReady();
  }

  /** Resolves once the head that indexing asked for has been learned and switched to (or judged no better). */
  async whenHeadSettled(): Promise<void> {
    await this.indexer.whenHeadSettled();
    await this.heads.whenSettled();
  }

  // ── photos ─────────────────────────────────────────────────────────────────

  getPhoto(id: number): PhotoRow | undefined {
    return this.store.getPhoto(id);
  }

  /** A photo of the library: a file gone from disk (missing) is not one. Throws NotFoundError. */
  photo(id: number): PhotoRow {
    const p = this.store.getPhoto(id);
    if (!p || p.status === 'missing') throw new NotFoundError(`No photo with id ${id}`);
    return p;
  }

  /** A photo that can be the query of a search: indexed with the active head. */
  private queryPhoto(id: number): PhotoRow {
    const p = this.photo(id);
    const name = path.basename(p.path);
    if (p.status === 'pending')
      throw new NotReadyError(`${name} is not indexed yet — try again when indexing reaches it`);
    if (p.status === 'failed')
      throw new NotReadyError(`${name} could not be indexed, so it cannot be a query: ${p.error}`);
    return p;
  }

  /** A photo with its folder and the albums it is in. */
  photoDetails(p: PhotoRow): { photo: PhotoRow; folder: FolderRow; albums: { id: number; name: string }[] } {
    const folder = this.store.listFolders().find((f) => f.id === p.folderId)!;
    return { photo: p, folder, albums: albumsOfPhoto(this.store, p.id) };
  }

  /** One page of a gallery view (indexed photos, in the chosen order), and how many it holds. */
  photoPage(q: PhotoPageQuery): { total: number; rows: PhotoRow[] } {
    if (q.albumId !== undefined) this.album(q.albumId);
    return photoPage(this.store, q);
  }

  /** The ids of a range of a gallery view, in its order. */
  photoIdRange(q: PhotoPageQuery): { total: number; ids: number[] } {
    if (q.albumId !== undefined) this.album(q.albumId);
    return photoIdRange(this.store, q);
  }

  /** One page of the photos that could not be indexed (with why). */
  failurePage(offset: number, limit: number): { total: number; rows: PhotoRow[] } {
    return failurePage(this.store, offset, limit);
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

  /** The library photo at a file path (a file gone from disk is none); NotFoundError says which case. */
  photoAt(file: string): PhotoRow {
    const p = this.photoByPath(file);
    if (p && p.status !== 'missing') return p;
    throw new NotFoundError(
      fs.existsSync(file)
        ? `${file} is not in the library (add its folder, or search with it as an outside image)`
        : `${file}: no such file`,
    );
  }

  listPhotos(
    opts: { status?: PhotoStatus; folderId?: number; limit?: number; offset?: number } = {},
  ): PhotoRow[] {
    return this.store.listPhotos(opts);
  }

  folderPath(folderId: number): string | undefined {
    return this.store.listFolders().find((f) => f.id === folderId)?.path;
  }

  thumbnailPath(id: number): string {
    return this.indexer.thumbnailPath(id);
  }

  /**
   * Moves photos' files to the trash with the host's `trash` (never a hard delete), one at a time; each
   * one trashed leaves the library as if its file had vanished (back if it is restored).
   */
  async trashPhotos(
    photoIds: number[],
    trash: (file: string) => Promise<void>,
  ): Promise<{ trashed: number[]; failed: { photoId: number; error: string }[] }> {
    const trashed: number[] = [];
    const failed: { photoId: number; error: string }[] = [];
    for (const id of photoIds) {
      const p = this.store.getPhoto(id);
      if (!p || p.status === 'missing') {
        failed.push({ photoId: id, error: `No photo with id ${id}` });
        continue;
      }
      try {
        await trash(p.path);
      } catch (error) {
        failed.push({ photoId: id, error: `${p.path}: ${(error as Error).message}` });
        continue;
      }
      // Forgotten, as the contract says: a file restored from the trash comes back as a new photo.
      this.store.forgetPhotos([id]);
      trashed.push(id);
    }
    if (trashed.length) {
      this.forget(trashed);
      this.emit('changed', { reason: 'photos trashed' });
    }
    return { trashed, failed };
  }

  /** Photos out of every search and view: their index entries and thumbnails go (SQLite says why). */
  private forget(ids: number[]): void {
    for (const id of ids) {
      this.index.remove(id);
      fs.rmSync(this.indexer.thumbnailPath(id), { force: true });
    }
    void this.index.saveInBackground();
  }

  // ── queries ────────────────────────────────────────────────────────────────

  private get ctx(): QueryContext {
    return { store: this.store, index: this.index, headVersion: () => this.heads.active.version };
  }

  /** Search options plus the folders to leave out because they cannot be reached now. */
  private withReachable(opts: SearchOptions): SearchOptions {
    const gone = this.unavailableFolders().map((f) => f.id);
    return gone.length ? { ...opts, excludeFolderIds: [...(opts.excludeFolderIds ?? []), ...gone] } : opts;
  }

  /** Photos most similar to a library photo (itself excluded). */
  similar(photoId: number, opts: SearchOptions = {}): SearchHit[] {
    this.queryPhoto(photoId);
    const v = this.store.getEmbedding(photoId, this.heads.active.version);
    if (!v) {
      const p = this.store.getPhoto(photoId);
      if (!p) throw new NotFoundError(`No photo with id ${photoId}`);
      throw new NotReadyError(`Photo ${photoId} (${p.path}) is not indexed (status ${p.status})`);
    }
    return searchByVector(this.ctx, v, this.withReachable(opts), new Set([photoId]));
  }

  searchByVector(vector: Float32Array, opts: SearchOptions = {}): SearchHit[] {
    if (vector.length !== this.heads.dim)
      throw new InvalidInputError(
        `Query vector has ${vector.length} dimensions, the index ${this.heads.dim}`,
      );
    return searchByVector(this.ctx, vector, this.withReachable(opts));
  }

  /** Embeds an image from outside the library (path or bytes) and searches with it. */
  async searchByImage(image: string | Buffer, opts: SearchOptions = {}): Promise<SearchHit[]> {
    return searchByVector(this.ctx, await this.embedImage(image), this.withReachable(opts));
  }

  /** Query by a region of a library photo (box in fractions of the displayed image). */
  async searchByRegion(photoId: number, box: Box, opts: SearchOptions = {}): Promise<SearchHit[]> {
    const p = this.photo(photoId);
    validateBox(box);
    return searchByVector(this.ctx, await this.embedImage(p.path, { region: box }), this.withReachable(opts));
  }

  /** Copies (copy score ≥ threshold) and near-duplicates; see query/duplicates.ts. */
  async duplicates(threshold?: number): Promise<DuplicateGroup[]> {
    const gone = new Set(this.unavailableFolders().map((f) => f.id));
    const groups = await this.duplicateFinder.find({
      threshold,
      // Photos indexed before fingerprints existed get theirs now (a decode, no model run).
      fingerprintOf: async (p) => {
        const f = (await this.embedder.decode(p.path, { thumbnail: false }).catch(() => null))?.fingerprint;
        if (f) this.store.setFingerprint(p.id, f);
        return f;
      },
    });
    if (!gone.size) return groups;
    return groups
      .map((g) => ({ ...g, photos: g.photos.filter((h) => !gone.has(h.photo.folderId)) }))
      .filter((g) => g.photos.length > 1);
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

  /** A trimmed, non-empty name that no other album has; throws InvalidInputError saying which rule. */
  private albumName(name: string, albumId?: number): string {
    const trimmed = name.trim();
    if (!trimmed) throw new InvalidInputError('An album needs a name');
    if (this.store.listAlbums().some((a) => a.name === trimmed && a.id !== albumId))
      throw new InvalidInputError(`An album called "${trimmed}" already exists`);
    return trimmed;
  }

  createAlbum(name: string): AlbumRow {
    const id = this.store.createAlbum(this.albumName(name));
    this.emit('changed', { reason: 'album' });
    return this.store.listAlbums().find((a) => a.id === id)!;
  }

  renameAlbum(id: number, name: string): boolean {
    if (!this.store.listAlbums().some((a) => a.id === id)) throw new NotFoundError(`No album with id ${id}`);
    const ok = this.store.renameAlbum(id, this.albumName(name, id));
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

  /** An album, with how many of its photos are still in the library and its cover. Throws NotFoundError. */
  album(id: number): { album: AlbumRow; presence: AlbumPresence | undefined } {
    const album = this.store.listAlbums().find((a) => a.id === id);
    if (!album) throw new NotFoundError(`No album with id ${id}`);
    return { album, presence: albumPresence(this.store).get(id) };
  }

  /** Every album with its presence (see album()). */
  albums(): { album: AlbumRow; presence: AlbumPresence | undefined }[] {
    const presence = albumPresence(this.store);
    return this.store.listAlbums().map((album) => ({ album, presence: presence.get(album.id) }));
  }

  /** Adds photos of the library to an album; an unknown album or photo is a NotFoundError. */
  addToAlbum(albumId: number, photoIds: number[]): number {
    this.album(albumId);
    for (const id of photoIds) this.photo(id);
    const n = this.store.addToAlbum(albumId, photoIds);
    this.emit('changed', { reason: 'album' });
    return n;
  }

  removeFromAlbum(albumId: number, photoIds: number[]): number {
    this.album(albumId);
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

  /** Heads of the current model (a library indexed with another model keeps its heads, unusable now). */
  modelHeads(): HeadSummary[] {
    return this.store.listHeads().filter((h) => h.modelId === this.embedder.modelId);
  }

  /**
   * Adopts a head version of the current model (also the way back to an earlier one), unless fine-tuning
   * runs; the index rebuilds in the background while the current one answers.
   */
  async useHead(version: number): Promise<HeadSummary> {
    const head = this.store.getHead(version);
    if (!head || head.modelId !== this.embedder.modelId)
      throw new NotFoundError(`No head version ${version} for the current model`);
    if (this.fineTune.isRunning)
      throw new BusyError('Fine-tuning is running; wait for it or cancel it first');
    return this.adoptHead(version);
  }

  private async adoptHead(version: number): Promise<HeadSummary> {
    this.claimWriter();
    const { weights, ...h } = await this.heads.adopt(version);
    this.emit('head', { version: h.version, kind: h.kind });
    return { ...h, dim: headOutDim(weights) };
  }

  // ── fine-tuning ────────────────────────────────────────────────────────────

  /** Starts fine-tuning on the given albums (default: all) in a worker; false if a run is going on. */
  startFineTune(albumIds?: number[]): boolean {
    return this.fineTune.start(albumIds);
  }

  cancelFineTune(): boolean {
    return this.fineTune.cancel();
  }

  /** The fine-tuning run in progress (its epochs so far), or null. */
  get training(): TrainingState | null {
    return this.fineTune.state;
  }
}

function unavailableMessage(folder: string): string {
  return `${folder} cannot be found or is empty (is its drive connected?): its photos are left out of results until it is back; nothing was deleted`;
}
