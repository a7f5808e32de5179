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
import { BusyError, NotFoundError, NotReadyError } from '../errors';
import { headOutDim } from '../head/head-types';
import { createDefaultEmbedder, type EmbedderOptions } from '../embed/default-embedder';
import type { PhotoEmbedder } from '../embed/photo-embedder';
import type { FinetuneOptions } from '../finetune/trainer';
import { Library, type LibraryOptions } from '../library';
import type { SearchHit, SearchOptions as EngineSearchOptions } from '../query/types';
import { albumPresence, albumsOfPhoto, failurePage, photoIdRange, photoPage } from '../store/photo-listing';
import type { PhotoRow } from '../store/types';
import {
  ApiError,
  type AlbumInfo,
  type EngineApi,
  type EventSource,
  type LikenessEvent,
  type SearchOptions,
  type SearchResults,
} from './contract';
import { addLibraryFolder } from './add-folder';
import { FineTuneJob } from './finetune-job';
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
  let fineTune: FineTuneJob | undefined;
  const opening = (async () => {
    const modelLog = logger.child('model');
    embedder = await (options.createEmbedder ?? createDefaultEmbedder)({ log: (m) => modelLog.info(m) });
    const lib = await Library.open(dbDir, embedder, { watch: true, ...options.library });
    wireEvents(lib, emit, (m) => logger.warn(m));
    fineTune = new FineTuneJob(
      lib,
      {
        progress: (data) => emit({ event: 'finetune.progress', data }),
        done: (data) => emit({ event: 'finetune.done', data }),
      },
      options.fineTune,
      logger.child('finetune'),
    );
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
    ...engineApi(library, () => ({ embedder: embedder!, fineTune: fineTune! }), options.trash, emit),
    status: async () => {
      if (!ready && !loadError) {
        const timer = new Promise<null>((resolve) => setTimeout(resolve, STATUS_WAIT_MS, null).unref());
        if ((await Promise.race([opening.catch(() => null), timer])) === null) return loadingStatus();
      }
      const lib = await library();
      return { ...toStatus(lib.status(), embedder!, lib.isIndexing), training: fineTune?.state ?? null };
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
        await fineTune?.close();
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
  lib.on('done', (s) =>
    emit({
      event: 'index.done',
      data: {
        done: s.done + s.failed,
        failed: s.failed,
        total: s.total,
        state: s.state,
        ...(s.error ? { error: s.error } : {}),
      },
    }),
  );
  // A run stopped by a failed write (disk full): the terminal of `likeness serve` says so too.
  lib.on('done', (s) => s.error && log(`indexing stopped: ${s.error}`));
  lib.on('changed', ({ reason }) => emit({ event: 'library.changed', data: { reason } }));
  lib.on('head', ({ version }) => {
    emit({ event: 'heads.changed', data: { active: version } });
    emit({ event: 'library.changed', data: { reason: 'head changed' } });
  });
  lib.on('warning', log);
}

const summaries = (hits: SearchHit[]): SearchResults => ({
  results: hits.map((h) => ({ photo: toPhotoSummary(h.photo), score: h.score })),
});

/** The contract's search options → the engine's (the same names; undefined ones left out). */
function searchOptions(o: SearchOptions): EngineSearchOptions {
  const out: EngineSearchOptions = {};
  if (o.k !== undefined) out.k = o.k;
  if (o.threshold !== undefined) out.threshold = o.threshold;
  if (o.expand !== undefined) out.expand = o.expand;
  if (o.folderId !== undefined) out.folderId = o.folderId;
  if (o.from !== undefined) out.from = o.from;
  if (o.to !== undefined) out.to = o.to;
  return out;
}

function engineApi(
  library: () => Promise<Library>,
  parts: () => { embedder: PhotoEmbedder; fineTune: FineTuneJob },
  trash: (file: string) => Promise<void>,
  emit: (e: LikenessEvent) => void,
): Omit<EngineApi, 'status'> {
  const photoOf = (lib: Library, photoId: number): PhotoRow => {
    const p = lib.getPhoto(photoId);
    if (!p || p.status === 'missing') throw new NotFoundError(`No photo with id ${photoId}`);
    return p;
  };
  /** A photo that can be the query of a search: indexed with the active head. */
  const indexedPhoto = (lib: Library, photoId: number): PhotoRow => {
    const p = photoOf(lib, photoId);
    const name = path.basename(p.path);
    if (p.status === 'pending')
      throw new NotReadyError(`${name} is not indexed yet — try again when indexing reaches it`);
    if (p.status === 'failed')
      throw new NotReadyError(`${name} could not be indexed, so it cannot be a query: ${p.error}`);
    return p;
  };
  const albumOf = (lib: Library, albumId: number): AlbumInfo => {
    const a = lib.listAlbums().find((x) => x.id === albumId);
    if (!a) throw new NotFoundError(`No album with id ${albumId}`);
    return toAlbumInfo(a, albumPresence(lib.store).get(albumId));
  };
  const details = (lib: Library, p: PhotoRow) => {
    const folder = lib.store.listFolders().find((f) => f.id === p.folderId)!;
    return toPhotoDetails(p, folder, albumsOfPhoto(lib.store, p.id));
  };
  const checkPhotos = (lib: Library, ids: number[]) => {
    for (const id of ids) photoOf(lib, id);
  };
  const albumChanged = () => emit({ event: 'library.changed', data: { reason: 'album' } });

  return {
    // ── folders ──────────────────────────────────────────────────────────────────────────────────────
    listFolders: async () => ({ folders: (await library()).listFolders().map(toFolderInfo) }),
    addFolder: async ({ path: dir, confirm }) => {
      const lib = await library();
      const added = await addLibraryFolder(lib, dir, { confirm });
      // Indexing starts by itself; the renderer follows it through index.progress.
      void lib.startIndexing().catch((error: Error) => emit(warningChanged(error)));
      const folder = lib.listFolders().find((f) => f.id === added.id)!;
      return { folder: toFolderInfo(folder) };
    },
    rescanFolder: async ({ folderId }) => {
      const lib = await library();
      await lib.rescan(folderId);
      void lib.startIndexing().catch((error: Error) => emit(warningChanged(error)));
      return { folder: toFolderInfo(lib.listFolders().find((f) => f.id === folderId)!) };
    },
    removeFolder: async ({ folderId }) => {
      const lib = await library();
      if (!lib.removeFolder(folderId)) throw new NotFoundError(`No folder with id ${folderId}`);
      return { removed: true };
    },

    // ── photos ───────────────────────────────────────────────────────────────────────────────────────
    listPhotos: async ({ offset, limit, sort, folderId, albumId }) => {
      const lib = await library();
      if (albumId !== undefined) albumOf(lib, albumId);
      const page = photoPage(lib.store, { offset, limit, sort, folderId, albumId });
      return { total: page.total, items: page.rows.map(toPhotoSummary) };
    },
    listPhotoIds: async ({ offset, limit, sort, folderId, albumId }) => {
      const lib = await library();
      if (albumId !== undefined) albumOf(lib, albumId);
      return photoIdRange(lib.store, { offset, limit, sort, folderId, albumId });
    },
    getPhoto: async ({ photoId }) => {
      const lib = await library();
      return details(lib, photoOf(lib, photoId));
    },
    findPhoto: async ({ path: file }) => {
      const lib = await library();
      const p = lib.photoByPath(file);
      if (p && p.status !== 'missing') return details(lib, p);
      throw new ApiError(
        'not_found',
        fs.existsSync(file)
          ? `${file} is not in the library (add its folder, or search with it as an outside image)`
          : `${file}: no such file`,
      );
    },

    // ── queries ──────────────────────────────────────────────────────────────────────────────────────
    similar: async ({ photoId, ...opts }) => {
      const lib = await library();
      indexedPhoto(lib, photoId);
      return summaries(lib.similar(photoId, searchOptions(opts)));
    },
    searchByImage: async ({ bytesBase64, name, ...opts }) => {
      const lib = await library();
      const label = name?.trim() || 'The dropped image';
      const vector = await lib.embedImage(Buffer.from(bytesBase64, 'base64'), { label });
      return summaries(lib.searchByVector(vector, searchOptions(opts)));
    },
    searchByRegion: async ({ photoId, box, k }) => {
      const lib = await library();
      photoOf(lib, photoId);
      return summaries(await lib.searchByRegion(photoId, box, searchOptions({ k })));
    },
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
    listAlbums: async () => {
      const lib = await library();
      const presence = albumPresence(lib.store);
      return { albums: lib.listAlbums().map((a) => toAlbumInfo(a, presence.get(a.id))) };
    },
    createAlbum: async ({ name }) => {
      const lib = await library();
      return { album: toAlbumInfo(lib.createAlbum(name)) };
    },
    renameAlbum: async ({ albumId, name }) => {
      const lib = await library();
      albumOf(lib, albumId);
      lib.renameAlbum(albumId, name);
      return { album: albumOf(lib, albumId) };
    },
    deleteAlbum: async ({ albumId }) => ({ deleted: (await library()).deleteAlbum(albumId) }),
    addToAlbum: async ({ albumId, photoIds }) => {
      const lib = await library();
      albumOf(lib, albumId);
      checkPhotos(lib, photoIds);
      lib.addToAlbum(albumId, photoIds);
      albumChanged();
      return { album: albumOf(lib, albumId) };
    },
    removeFromAlbum: async ({ albumId, photoIds }) => {
      const lib = await library();
      albumOf(lib, albumId);
      lib.removeFromAlbum(albumId, photoIds);
      albumChanged();
      return { album: albumOf(lib, albumId) };
    },

    // ── indexing ─────────────────────────────────────────────────────────────────────────────────────
    startIndexing: async () => {
      const lib = await library();
      if (lib.isIndexing || lib.status().photos.pending === 0) return { started: false };
      lib.claimWriter();
      void lib.startIndexing().catch((error: Error) => emit(warningChanged(error)));
      return { started: true };
    },
    pauseIndexing: async () => ({ paused: (await library()).pause() }),
    resumeIndexing: async () => ({ resumed: (await library()).resume() }),
    cancelIndexing: async () => ({ cancelled: (await library()).cancel() }),
    listFailures: async ({ offset, limit }) => {
      const page = failurePage((await library()).store, offset, limit);
      return {
        total: page.total,
        items: page.rows.map((p) => ({ photoId: p.id, path: p.path, error: p.error ?? 'unknown error' })),
      };
    },

    // ── heads and fine-tuning ────────────────────────────────────────────────────────────────────────
    startFineTune: async ({ albumIds }) => {
      await library();
      return { started: parts().fineTune.start(albumIds) };
    },
    cancelFineTune: async () => {
      await library();
      return { cancelled: parts().fineTune.cancel() };
    },
    listHeads: async () => {
      const lib = await library();
      const modelId = parts().embedder.modelId;
      return {
        heads: lib
          .listHeads()
          .filter((h) => h.modelId === modelId)
          .map(toHeadInfo),
      };
    },
    useHead: async ({ version }) => {
      const lib = await library();
      const head = lib.store.getHead(version);
      if (!head || head.modelId !== parts().embedder.modelId)
        throw new NotFoundError(`No head version ${version} for the current model`);
      if (parts().fineTune.isRunning)
        throw new BusyError('Fine-tuning is running; wait for it or cancel it first');
      await lib.useHead(version);
      return { head: { version, combo: head.combo, dim: headOutDim(head.weights) } };
    },
  };
}

/** The `library.changed` reason of an indexing run that failed as a whole (e.g. the model cannot load). */
export const INDEXING_STOPPED = 'indexing stopped: ';

/** An indexing run that failed as a whole (not per photo): the renderer refetches and sees the state. */
function warningChanged(error: Error): LikenessEvent {
  return { event: 'library.changed', data: { reason: `${INDEXING_STOPPED}${error.message}` } };
}
