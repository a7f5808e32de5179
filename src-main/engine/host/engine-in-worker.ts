/**
 * Browser mode's engine in a worker thread. The serving thread keeps only what must answer at once:
 * the forwarded contract, and photo pixels read straight from their files (by id, after a point query on
 * a read-only connection), so thumbnails never wait behind the engine's queue.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ApiError } from '../api/contract';
import type { EngineHost } from '../api/engine-api';
import { libraryImages, type PhotoFiles } from '../api/library-images';
import { spawnModuleWorker } from '../runtime/module-worker';
import { THUMBNAILS_FOLDER, thumbnailFile } from '../pipeline/indexer';
import { DB_FILE } from '../store/open-database';
import { Store } from '../store/store';
import { connectEngine, type ChannelMessage } from './engine-channel';

export interface EngineWorkerOptions {
  dbDir: string;
  trash: (path: string) => Promise<void>;
  log?: (message: string) => void;
}

export async function createEngineInWorker(options: EngineWorkerOptions): Promise<EngineHost> {
  const log = options.log ?? ((m: string) => process.stderr.write(`likeness: ${m}\n`));
  const dbDir = path.resolve(options.dbDir);
  const worker = spawnModuleWorker(import.meta.url, './engine.worker', { dbDir });
  const remote = connectEngine(
    {
      post: (m) => worker.postMessage(m),
      listen: (h) => worker.on('message', (m: ChannelMessage) => h(m)),
    },
    { trash: options.trash, log },
  );
  // createEngineApi returns before the model loads; the worker says when it answers calls.
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: { type?: string }) => {
      if (m?.type !== 'ready') return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      resolve();
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
  worker.on('error', (e) => {
    log(`the engine worker crashed: ${e.message}`);
    remote.lost(e.message);
  });
  worker.on('exit', (code) => remote.lost(`the engine worker exited (code ${code})`));

  let store: Store | undefined;
  // Opened on first use: the engine creates (and migrates) the database while the model loads.
  const readStore = (): Store => {
    if (!store) {
      const file = path.join(dbDir, DB_FILE);
      if (!fs.existsSync(file)) throw new ApiError('not_found', 'The library has no photos yet');
      store = new Store(new Database(file, { readonly: true, fileMustExist: true }));
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
        await worker.terminate();
      })()),
  };
}
