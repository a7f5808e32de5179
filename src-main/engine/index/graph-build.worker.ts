/**
 * Worker-thread entry of an HNSW build: reads a head version's embeddings from SQLite over its own
 * connection, adds them to a fresh graph (hnswlib adds on the calling thread, so this thread, not the
 * engine's, pays the minutes a large library takes), writes the graph to a file and reports its checksum.
 */
import { parentPort, workerData } from 'node:worker_threads';
import hnswlib from 'hnswlib-node';
import { Store } from '../store/store';
import { fileSha1 } from './file-checksum';
import type { GraphBuildReply, GraphBuildRequest } from './graph-build-protocol';

const port = parentPort;
if (!port) throw new Error('graph-build.worker.ts must run in a worker thread');
const req = workerData as GraphBuildRequest;
const send = (m: GraphBuildReply) => port.postMessage(m);
const CHUNK = 1024;

try {
  const store = Store.open(req.dbDir);
  try {
    const total = store.embeddingFingerprint(req.headVersion).count;
    const h = new hnswlib.HierarchicalNSW('ip', req.dim);
    h.initIndex({
      maxElements: Math.max(1024, Math.ceil(total * 1.25)),
      m: req.m,
      efConstruction: req.efConstruction,
    });
    let after = 0;
    let added = 0;
    for (;;) {
      const { ids, vectors } = store.embeddingChunk(req.headVersion, after, CHUNK);
      for (let i = 0; i < ids.length; i++) {
        if (h.getCurrentCount() >= h.getMaxElements()) h.resizeIndex(Math.ceil(h.getMaxElements() * 1.5));
        h.addPoint(Array.from(vectors[i]), ids[i]);
      }
      added += ids.length;
      send({ type: 'progress', added, total });
      if (ids.length < CHUNK) break;
      after = ids[ids.length - 1];
    }
    h.writeIndexSync(req.outFile);
    send({ type: 'done', file: req.outFile, count: added, checksum: fileSha1(req.outFile) });
  } finally {
    store.close();
  }
} catch (e) {
  send({ type: 'error', message: (e as Error).message });
}
