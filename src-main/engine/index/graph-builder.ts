/**
 * Starts an index job (drop old embeddings, re-project, build the HNSW graph) in a worker thread. The result settles exactly once: with the graph file, or
 * with an Error if the worker fails, crashes or is killed (the caller's current graph is untouched).
 */
import fs from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { spawnModuleWorker } from '../runtime/module-worker';
import type { GraphBuildReply, GraphBuildRequest } from './graph-build-protocol';

export interface BuiltGraph {
  /** null for a job that builds no graph (clean-up only) */
  file: string | null;
  count: number;
  checksum: string;
}

export interface GraphBuild {
  result: Promise<BuiltGraph>;
  /** stops the worker (as a crash would): result rejects, its file is removed */
  kill(): Promise<void>;
}

export function startGraphBuild(
  req: GraphBuildRequest,
  onProgress?: (phase: 'reproject' | 'build', added: number, total: number) => void,
): GraphBuild {
  let worker: Worker;
  let settled = false;
  let resolveFn!: (g: BuiltGraph) => void;
  let rejectFn!: (e: Error) => void;
  const result = new Promise<BuiltGraph>((res, rej) => {
    resolveFn = res;
    rejectFn = rej;
  });
  const finish = (r: { ok: BuiltGraph } | { err: Error }) => {
    if (settled) return;
    settled = true;
    if ('ok' in r) resolveFn(r.ok);
    else {
      if (req.build) fs.rmSync(req.build.outFile, { force: true });
      rejectFn(r.err);
    }
    if ('err' in r) Atomics.store(stop, 0, 1);
  };
  const stop = new Int32Array(new SharedArrayBuffer(4));
  let exited!: Promise<void>;
  try {
    worker = spawnModuleWorker(import.meta.url, './graph-build.worker', { ...req, stop });
    exited = new Promise((resolve) => worker.once('exit', () => resolve()));
  } catch (e) {
    return {
      result: Promise.reject(new Error(`could not start the index build worker: ${(e as Error).message}`)),
      kill: async () => {},
    };
  }
  worker.on('message', (m: GraphBuildReply) => {
    if (m.type === 'progress') {
      if (!settled) onProgress?.(m.phase, m.added, m.total);
    } else if (m.type === 'done') finish({ ok: { file: m.file, count: m.count, checksum: m.checksum } });
    else finish({ err: new Error(`index job failed: ${m.message}`) });
  });
  worker.on('error', (e) => finish({ err: new Error(`the index build worker crashed: ${e.message}`) }));
  worker.on('exit', (code) =>
    finish({ err: new Error(`the index build worker stopped (exit code ${code}) before finishing`) }),
  );
  return {
    result,
    // Asks the worker to stop and waits for it to exit (never terminate(): see GraphBuildRequest.stop).
    kill: async () => {
      Atomics.store(stop, 0, 1);
      await exited;
    },
  };
}
