/**
 * Worker-thread entry of the index's heavy jobs, over its own SQLite connection: dropping a replaced
 * head's embeddings, re-projecting the library with a new head (ONNX Runtime runs on its calling
 * thread), and building the HNSW graph (hnswlib adds on the calling thread; minutes at 100k photos).
 * None of it runs on the engine's thread. The graph is written to a file with its checksum.
 */
import { parentPort, workerData } from 'node:worker_threads';
import hnswlib from 'hnswlib-node';
import { projectBatchFast, releaseFastSession } from '../head/head-session';
import { Store } from '../store/store';
import { fileSha1 } from './file-checksum';
import type { GraphBuildReply, GraphBuildRequest } from './graph-build-protocol';

const port = parentPort;
if (!port) throw new Error('graph-build.worker.ts must run in a worker thread');
const req = workerData as GraphBuildRequest;
const send = (m: GraphBuildReply) => port.postMessage(m);
/** rows per transaction: short, so the engine's own writes never wait long for the lock */
const CHUNK = 1024;
/** exits the thread when the starter asked to stop (checked between points and chunks) */
const checkStop = () => {
  if (req.stop && Atomics.load(req.stop, 0) === 1) process.exit(1);
};

async function reproject(store: Store, version: number, modelId: string): Promise<void> {
  const head = store.getHead(version);
  if (!head) throw new Error(`No head version ${version}`);
  const total = store.indexedCount();
  let added = 0;
  for (const { ids, pooled } of store.pooledPages(modelId, CHUNK)) {
    checkStop();
    store.putEmbeddings(version, ids, await projectBatchFast(head.weights, pooled));
    added += ids.length;
    send({ type: 'progress', phase: 'reproject', added, total });
  }
  releaseFastSession();
}

function build(store: Store, version: number, b: NonNullable<GraphBuildRequest['build']>): number {
  const total = store.embeddingFingerprint(version).count;
  const h = new hnswlib.HierarchicalNSW('ip', b.dim);
  h.initIndex({
    maxElements: Math.max(1024, Math.ceil(total * 1.25)),
    m: b.m,
    efConstruction: b.efConstruction,
  });
  let added = 0;
  for (const { ids, vectors } of store.embeddingPages(version, CHUNK)) {
    for (let i = 0; i < ids.length; i++) {
      checkStop();
      if (h.getCurrentCount() >= h.getMaxElements()) h.resizeIndex(Math.ceil(h.getMaxElements() * 1.5));
      h.addPoint(Array.from(vectors[i]), ids[i]);
    }
    added += ids.length;
    send({ type: 'progress', phase: 'build', added, total });
  }
  h.writeIndexSync(b.outFile);
  return added;
}

async function main(): Promise<void> {
  const store = Store.open(req.dbDir);
  try {
    for (const v of req.drop ?? []) while (store.dropEmbeddings(v, CHUNK) > 0) checkStop();
    if (req.headVersion === undefined) return send({ type: 'done', file: null, count: 0, checksum: '' });
    if (req.reproject) await reproject(store, req.headVersion, req.reproject.modelId);
    if (!req.build) return send({ type: 'done', file: null, count: 0, checksum: '' });
    const count = build(store, req.headVersion, req.build);
    send({ type: 'done', file: req.build.outFile, count, checksum: fileSha1(req.build.outFile) });
  } finally {
    store.close();
  }
}

main().catch((e: unknown) => send({ type: 'error', message: (e as Error).message }));
