/**
 * Worker-thread entry of the duplicate scan over a graph snapshot file: the scan reads every photo's
 * vector and neighbours (hundreds of MB at 100k photos), so it runs beside the engine, not on its thread.
 */
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { readHnswBaseLayer } from '../index/hnsw-file';
import { scanDuplicates } from './duplicate-scan';

const port = parentPort;
if (!port) throw new Error('duplicates.worker.ts must run in a worker thread');
const { file, dim, threshold } = workerData as { file: string; dim: number; threshold: number };
try {
  port.postMessage({ ok: scanDuplicates(readHnswBaseLayer(fs.readFileSync(file), dim), threshold) });
} catch (e) {
  port.postMessage({ error: (e as Error).message });
}
