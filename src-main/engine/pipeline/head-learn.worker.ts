/**
 * Worker-thread entry of head learning (head-learning.ts): it reads the library's pooled vectors through
 * its own read-only connection, learns the candidate and checks it, with ONNX Runtime projecting.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DEFAULT_HEAD_OPS } from '../head/head-ops';
import { releaseFastSession } from '../head/head-session';
import { Store } from '../store/store';
import { learnHead, type LearnRequest } from './head-learning';

const port = parentPort;
if (!port) throw new Error('head-learn.worker.ts must run in a worker thread');
const { dbDir, request } = workerData as { dbDir: string; request: LearnRequest };
const store = Store.openReadOnly(dbDir);
try {
  port.postMessage({ ok: await learnHead(store, request, DEFAULT_HEAD_OPS) });
} catch (e) {
  port.postMessage({ error: (e as Error).message });
} finally {
  store.close();
  releaseFastSession();
}
