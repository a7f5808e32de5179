/**
 * Worker-thread entry of the duplicate finder. It lives as long as the library, so its copy-score cache
 * survives between calls (moving the slider re-groups without re-comparing pixels). It reads the library
 * through its own read-only connection and the graph from a snapshot file: at 100k photos that is hundreds
 * of MB and seconds of work, none of it on the engine's thread.
 */
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { readHnswBaseLayer } from '../index/hnsw-file';
import { Store } from '../store/store';
import { CopyScoreCache, COPY_CANDIDATE_COSINE, findDuplicateGroups } from './duplicate-finder';
import type { DuplicatesReply, DuplicatesRequest, DuplicatesWorkerData } from './duplicates-protocol';
import { scanAllPairs, scanDuplicates } from './duplicate-scan';

const port = parentPort;
if (!port) throw new Error('duplicates.worker.ts must run in a worker thread');
const cache = new CopyScoreCache();
const { dbDir } = workerData as DuplicatesWorkerData;
let store: Store | null = null; // opened on the first request: the library may have no database before

port.on('message', (req: DuplicatesRequest) => {
  let reply: DuplicatesReply;
  try {
    const s = (store ??= Store.openReadOnly(dbDir));
    const scan = req.graphFile
      ? scanDuplicates(readHnswBaseLayer(fs.readFileSync(req.graphFile), req.dim), COPY_CANDIDATE_COSINE)
      : scanAllPairs(s.embeddingPages(req.headVersion, 4096), COPY_CANDIDATE_COSINE);
    reply = { id: req.id, ok: findDuplicateGroups(s, scan, req.threshold, cache) };
  } catch (e) {
    reply = { id: req.id, error: (e as Error).message };
  }
  port.postMessage(reply);
});
