/**
 * The serving side of an engine that runs elsewhere: browser mode's worker thread (engine-in-worker.ts)
 * and Electron's utility process (src-main/electron/engine-in-utility.ts), over the same channel. It
 * keeps only what must answer at once: the forwarded contract, and photo pixels read straight from their
 * files (by id, after a point query on a read-only connection), so thumbnails never wait behind the
 * engine's queue.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../api/contract';
import type { EngineHost } from '../api/engine-api';
import { libraryImages, type PhotoFiles } from '../api/library-images';
import { THUMBNAILS_FOLDER, thumbnailFile } from '../pipeline/indexer';
import { DB_FILE } from '../store/open-database';
import { Store } from '../store/store';
import { connectEngine, type Endpoint } from './engine-channel';

export interface EngineWorkerOptions {
  dbDir: string;
  trash: (path: string) => Promise<void>;
  log?: (message: string) => void;
}

export interface RemoteEngineOptions extends EngineWorkerOptions {
  /** the channel to the engine side */
  endpoint: Endpoint;
  /** ends the engine side once it has closed (terminate the worker, end the process) */
  stop(): Promise<void>;
}

/**
 * The EngineHost for an engine across `endpoint`; resolves when the engine answers calls. `lost` is for
 * the transport to say the engine side died (before ready: the start fails with the reason).
 */
export async function hostRemoteEngine(
  options: RemoteEngineOptions,
  lost: (onLost: (reason: string) => void) => void,
): Promise<EngineHost> {
  const log = options.log ?? ((m: string) => process.stderr.write(`likeness: ${m}\n`));
  const dbDir = path.resolve(options.dbDir);
  const remote = connectEngine(options.endpoint, { trash: options.trash, log });
  lost((reason) => remote.lost(reason));
  // createEngineApi returns before the model loads; the engine side says when it answers calls.
  await remote.ready;

  let store: Store | undefined;
  // Opened on first use: the engine creates (and migrates) the database while the model loads.
  const readStore = (): Store => {
    if (!store) {
      const file = path.join(dbDir, DB_FILE);
      if (!fs.existsSync(file)) throw new ApiError('not_found', 'The library has no photos yet');
      store = Store.openReadOnly(dbDir);
    }
    return store;
  };
  const files: PhotoFiles = {
    getPhoto: (id) => readStore().getPhoto(id),
    folderPath: (id) =>
      readStore()
        .listFolders()
        .find((f) => f.id === id)?.path,
    thumbnailPath: (id) => thumbnailFile(path.join(dbDir, THUMBNAILS_FOLDER), id),
  };
  let closing: Promise<void> | undefined;
  return {
    api: remote.api,
    events: remote.events,
    images: libraryImages(() => Promise.resolve(files)),
    close: () =>
      (closing ??= (async () => {
        await remote.close();
        store?.close();
        await options.stop();
      })()),
  };
}
