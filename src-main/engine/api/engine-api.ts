/**
 * The engine behind the typed API: opens the Library with the default embedder and answers every contract
 * method with it. Both shells (Electron main, `likeness serve`) depend only on `createEngineApi`.
 *
 * Startup never waits for the model: this returns at once (the server can listen), the embedder and the
 * library open in the background, `status` answers "no model yet" meanwhile, and every other call waits
 * for them (or fails 'unavailable' with the reason if the model cannot be loaded).
 */
import { expectedProvider } from '../runtime/provider-choice';
import fs from 'node:fs';
import path from 'node:path';
import { NotFoundError } from '../errors';
import { createDefaultEmbedder, type EmbedderOptions } from '../embed/default-embedder';
import type { PhotoEmbedder } from '../embed/photo-embedder';
import type { FinetuneOptions } from '../finetune/trainer';
import { Library, type LibraryOptions } from '../library';
import type { SearchHit } from '../query/types';
import type { PhotoRow } from '../store/types';
import {
  ApiError,
  type EngineApi,
  type EventSource,
  type LikenessEvent,
  type SearchResults,
} from './contract';
import { libraryImages } from './library-images';
import {
  loadingStatus,
  toAlbumInfo,
  toFolderInfo,
  toHeadInfo,
  toJobProgress,
  toPhotoDetails,
  toPhotoSummary,
  toStatus,
} from './mappers';
import type { ImageSource } from './media';
import { withApiErrors } from './api-errors';
import { callbackSink, createLogger, fileSink } from '../log/logger';
import type { RotatingFileOptions } from '../log/rotating-file';
import { ServingThreadWatch } from '../log/serving-thread';

export interface EngineApiOptions {
  /** library directory (database, HNSW index, thumbnails) */
  dbDir: string;
  /** moves a file to the OS trash; injected by the host (Electron: shell.trashItem) — never a hard delete */
  trash: (path: string) => Promise<void>;
  /** where engine messages go (model loading, warnings), besides the log file; default: stderr */
  log?: (message: string) => void;
  /** the rotating log file in the library folder (logs/likeness.log); false: none */
  logFile?: RotatingFileOptions | false;
  /** the model; default: the built-in CGD backbone (tests inject a smaller one) */
  createEmbedder?: (options: EmbedderOptions) => Promise<PhotoEmbedder>;
  /** default: watch folders for changes */
  library?: LibraryOptions;
  /** overrides of the fine-tune defaults (tests: fewer epochs) */
  fineTune?: Partial<FinetuneOptions>;
  /**
   * Load the model as soon as the library is open (default), so the status bar names the device and the
   * first query does not wait; the CLI passes false: the model then loads only when inference needs it.
   */
  preloadModel?: boolean;
}

export interface EngineHost {
  api: EngineApi;
  events: EventSource;
  images: ImageSource;
  /** stops jobs at a resumable point and closes the database */
  close(): Promise<void>;
}

/** How long `status` waits for the model before answering "still loading". */
const STATUS_WAIT_MS = 3000;

export async function createEngineApi(options: EngineApiOptions): Promise<EngineHost> {
  const dbDir = path.resolve(options.dbDir);
  // An unusable library folder is the user's to fix: say so now, not on every call.
  try {
    fs.mkdirSync(dbDir, { recursive: true });
    fs.accessSync(dbDir, fs.constants.W_OK);
  } catch (error) {
    throw new Error(`Cannot use ${dbDir} as the library folder: ${(error as Error).message}`);
  }
  const sinks = [callbackSink(options.log ?? ((m: string) => process.stderr.write(`likeness: ${m}\n`)))];
  if (options.logFile !== false) sinks.push(fileSink(dbDir, options.logFile));
  const logger = createLogger(sinks);
  const log = (m: string) => logger.info(m);
  logger.debug(`engine starting on ${dbDir}`);
  const watch = new ServingThreadWatch(logger.child('serving')).start();

  const listeners = new Set<(event: LikenessEvent) => void>();
  const emit = (event: LikenessEvent) => {
    for (const listener of [...listeners]) listener(event);
  };
  const events: EventSource = {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };

  let embedder: PhotoEmbedder | undefined;
  const opening = (async () => {
    const modelLog = logger.child('model');
    embedder = await (options.createEmbedder ?? createDefaultEmbedder)({ log: (m) => modelLog.info(m) });
    const lib = await Library.open(dbDir, embedder, {
      watch: true,
      fineTune: options.fineTune,
      log: logger.child('finetune'),
      ...options.library,
    });
    wireEvents(lib, emit, (m) => logger.warn(m));
    const st = lib.status();
    logger.info(
      `library opened: ${st.photos.total} photos (${st.photos.indexed} indexed), head v${st.head.version}, ` +
        `${embedder.provider ?? 'model not loaded yet'} (${expectedProvider().provider} expected)`,
    );
    emit({ event: 'library.changed', data: { reason: 'library opened' } });
    if (options.preloadModel !== false && embedder.load) {
      const loaded = embedder.load();
      void loaded.then(
        () => emit({ event: 'library.changed', data: { reason: 'model loaded' } }),
        (error: Error) => log(`the photo model could not be loaded: ${error.message}`),
      );
    }
    return lib;
  })();
  let loadError: Error | undefined;
  opening.catch((error: Error) => {
    loadError = error;
    log(`the library could not be opened: ${error.message}`);
  });
  const library = () =>
    opening.catch((error: Error) => {
      throw new ApiError('unavailable', `The photo model or library could not be loaded: ${error.message}`);
    });
  let ready = false;
  void opening.then(() => (ready = true)).catch(() => undefined);

  // Domain errors become the contract's codes here, once, for every method.
  const api: EngineApi = withApiErrors({
    ...engineApi(library, options.trash, emit),
    status: async () => {
      if (!ready && !loadError) {
        const timer = new Promise<null>((resolve) => setTimeout(resolve, STATUS_WAIT_MS, null).unref());
        if ((await Promise.race([opening.catch(() => null), timer])) === null) return loadingStatus();
      }
      const lib = await library();
      return { ...toStatus(lib.status(), embedder!, lib.isIndexing), training: lib.training };
    },
  });

  let closing: Promise<void> | undefined;
  return {
    // every call named, so that one holding the serving thread shows in the log as what it was
    api: watch.wrap(api),
    events,
    images: libraryImages(library),
    close: () =>
      (closing ??= (async () => {
        const lib = await opening.catch(() => undefined);
        await lib?.close();
        await embedder?.close?.();
        listeners.clear();
        watch.stop();
        logger.debug('engine closed');
        for (const sink of sinks) sink.close?.();
      })()),
  };
}

/** Library events → contract events. */
function wireEvents(lib: Library, emit: (e: LikenessEvent) => void, log: (m: string) => void): void {
  lib.on('progress', (p) => emit({ event: 'index.progress', data: toJobProgress(p) }));
  lib.on('done', ({ seconds: _seconds, ...data }) => emit({ event: 'index.done', data }));
  // A run stopped by a failed write (disk full): the terminal of `likeness serve` says so too.
  lib.on('done', (s) => s.error && log(`indexing stopped: ${s.error}`));
  lib.on('changed', ({ reason }) => emit({ event: 'library.changed', data: { reason } }));
  lib.on('head', ({ version }) => {
    emit({ event: 'heads.changed', data: { active: version } });
    emit({ event: 'library.changed', data: { reason: 'head changed' } });
  });
  lib.on('indexReady', () => emit({ event: 'library.changed', data: { reason: INDEX_READY } }));
  lib.on('warning', log);
  lib.on('finetune.progress', (data) => emit({ event: 'finetune.progress', data }));
  lib.on('finetune.done', (data) => emit({ event: 'finetune.done', data }));
}

const summaries = (hits: SearchHit[]): SearchResults => ({
  results: hits.map((h) => ({ photo: toPhotoSummary(h.photo), score: h.score })),
});

function engineApi(
  library: () => Promise<Library>,
  trash: (file: string) => Promise<void>,
  emit: (e: LikenessEvent) => void,
): Omit<EngineApi, 'status'> {
  const details = (lib: Library, p: PhotoRow) => {
    const d = lib.photoDetails(p);
    return toPhotoDetails(d.photo, d.folder, d.albums);
  };
  const albumInfo = (lib: Library, albumId: number) => {
    const { album, presence } = lib.album(albumId);
    return toAlbumInfo(album, presence);
  };
  const folderInfo = (lib: Library, folderId: number) =>
    toFolderInfo(lib.listFolders().find((f) => f.id === folderId)!);
  /** Indexing starts by itself after a folder changes; the renderer follows it through index.progress. */
  const indexInBackground = (lib: Library) =>
    void lib.startIndexing().catch((error: Error) => emit(warningChanged(error)));

  return {
    // ── folders ──────────────────────────────────────────────────────────────────────────────────────
    listFolders: async () => ({ folders: (await library()).listFolders().map(toFolderInfo) }),
    addFolder: async ({ path: dir, confirm }) => {
      const lib = await library();
      const added = await lib.addNewFolder(dir, { confirm });
      indexInBackground(lib);
      return { folder: folderInfo(lib, added.id) };
    },
    rescanFolder: async ({ folderId }) => {
      const lib = await library();
      await lib.rescan(folderId);
      indexInBackground(lib);
      return { folder: folderInfo(lib, folderId) };
    },
    removeFolder: async ({ folderId }) => {
      const lib = await library();
      if (!lib.removeFolder(folderId)) throw new NotFoundError(`No folder with id ${folderId}`);
      return { removed: true };
    },

    // ── photos ───────────────────────────────────────────────────────────────────────────────────────
    listPhotos: async ({ offset, limit, sort, folderId, albumId }) => {
      const page = (await library()).photoPage({ offset, limit, sort, folderId, albumId });
      return { total: page.total, items: page.rows.map(toPhotoSummary) };
    },
    listPhotoIds: async ({ offset, limit, sort, folderId, albumId }) =>
      (await library()).photoIdRange({ offset, limit, sort, folderId, albumId }),
    getPhoto: async ({ photoId }) => {
      const lib = await library();
      return details(lib, lib.photo(photoId));
    },
    findPhoto: async ({ path: file }) => {
      const lib = await library();
      return details(lib, lib.photoAt(file));
    },

    // ── queries ──────────────────────────────────────────────────────────────────────────────────────
    similar: async ({ photoId, ...opts }) => summaries((await library()).similar(photoId, opts)),
    searchByImage: async ({ bytesBase64, name, ...opts }) => {
      const lib = await library();
      const label = name?.trim() || 'The dropped image';
      const vector = await lib.embedImage(Buffer.from(bytesBase64, 'base64'), { label });
      return summaries(lib.searchByVector(vector, opts));
    },
    searchByRegion: async ({ photoId, box, k }) =>
      summaries(await (await library()).searchByRegion(photoId, box, { k })),
    duplicates: async ({ threshold }) => {
      const groups = await (await library()).duplicates(threshold);
      return {
        groups: groups.map((g) => ({
          kind: g.kind,
          score: g.score,
          photos: g.photos.map((h) => ({ photo: toPhotoSummary(h.photo), score: h.score, copyOf: h.copyOf })),
        })),
      };
    },
    trashPhotos: async ({ photoIds }) => (await library()).trashPhotos(photoIds, trash),

    // ── albums ───────────────────────────────────────────────────────────────────────────────────────
    listAlbums: async () => ({
      albums: (await library()).albums().map((a) => toAlbumInfo(a.album, a.presence)),
    }),
    createAlbum: async ({ name }) => ({ album: toAlbumInfo((await library()).createAlbum(name)) }),
    renameAlbum: async ({ albumId, name }) => {
      const lib = await library();
      lib.renameAlbum(albumId, name);
      return { album: albumInfo(lib, albumId) };
    },
    deleteAlbum: async ({ albumId }) => ({ deleted: (await library()).deleteAlbum(albumId) }),
    addToAlbum: async ({ albumId, photoIds }) => {
      const lib = await library();
      lib.addToAlbum(albumId, photoIds);
      return { album: albumInfo(lib, albumId) };
    },
    removeFromAlbum: async ({ albumId, photoIds }) => {
      const lib = await library();
      lib.removeFromAlbum(albumId, photoIds);
      return { album: albumInfo(lib, albumId) };
    },

    // ── indexing ─────────────────────────────────────────────────────────────────────────────────────
    startIndexing: async () => {
      const run = (await library()).indexPending();
      void run?.catch((error: Error) => emit(warningChanged(error)));
      return { started: run !== null };
    },
    pauseIndexing: async () => ({ paused: (await library()).pause() }),
    resumeIndexing: async () => ({ resumed: (await library()).resume() }),
    cancelIndexing: async () => ({ cancelled: (await library()).cancel() }),
    listFailures: async ({ offset, limit }) => {
      const page = (await library()).failurePage(offset, limit);
      return {
        total: page.total,
        items: page.rows.map((p) => ({ photoId: p.id, path: p.path, error: p.error ?? 'unknown error' })),
      };
    },

    // ── heads and fine-tuning ────────────────────────────────────────────────────────────────────────
    startFineTune: async ({ albumIds }) => ({ started: (await library()).startFineTune(albumIds) }),
    cancelFineTune: async () => ({ cancelled: (await library()).cancelFineTune() }),
    listHeads: async () => ({ heads: (await library()).modelHeads().map(toHeadInfo) }),
    useHead: async ({ version }) => {
      const head = await (await library()).useHead(version);
      return { head: { version, combo: head.combo, dim: head.dim } };
    },
  };
}

/**
 * The `library.changed` reason when status's index.ready turns true: the head an indexing run asked for
 * learned and in use (or kept), or a graph built (whenIndexReady).
 */
export const INDEX_READY = 'index ready';

/** What whenIndexReady needs of an engine: its status and its events (any transport). */
export interface IndexReadiness {
  status(): Promise<{ index: { ready: boolean } }>;
  subscribe(listener: (e: LikenessEvent) => void): () => void;
}

/** Resolves once status says the index is ready, woken by the INDEX_READY event (no polling). */
export async function whenIndexReady(engine: IndexReadiness): Promise<void> {
  for (;;) {
    let off = () => {};
    const next = new Promise<void>((resolve) => {
      off = engine.subscribe(
        (e) => e.event === 'library.changed' && e.data.reason === INDEX_READY && resolve(),
      );
    });
    try {
      if ((await engine.status()).index.ready) return;
      await next;
    } finally {
      off();
    }
  }
}

/** The `library.changed` reason of an indexing run that failed as a whole (e.g. the model cannot load). */
export const INDEXING_STOPPED = 'indexing stopped: ';

/** An indexing run that failed as a whole (not per photo): the renderer refetches and sees the state. */
function warningChanged(error: Error): LikenessEvent {
  return { event: 'library.changed', data: { reason: `${INDEXING_STOPPED}${error.message}` } };
}
