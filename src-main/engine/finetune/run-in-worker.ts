/**
 * Runs fine-tuning in a worker thread, never on the caller's thread. The returned promise settles exactly
 * once: with the result, with an AbortError after a cancel, or with an Error if the worker fails, crashes
 * or is killed. Nothing is shared with the worker (its input is copied), so no outcome can alter the
 * caller's current head.
 */
import { Worker } from 'node:worker_threads';
import type { EpochReport, TrainInput, TrainResult } from './trainer';
import type { WorkerReply, WorkerRequest } from './worker-protocol';
import { forwardLines, spawnModuleWorker } from '../runtime/module-worker';

export interface WorkerRunOptions {
  onEpoch?: (e: EpochReport) => void;
  signal?: AbortSignal;
  /** the compiled worker entry; defaults to worker.js beside this module (worker.ts under tsx) */
  workerUrl?: URL;
  /** after a cancel, how long the worker gets to stop cleanly before it is terminated */
  cancelGraceMs?: number;
  /** the worker's own lines (what it reports and prints), for the log */
  log?: (line: string) => void;
  /** tests only: fault injection inside the worker */
  fault?: { afterEpoch: number; kind: 'throw' | 'exit' };
}

export interface TrainingHandle {
  result: Promise<TrainResult>;
  /** asks the worker to stop; result then rejects with an AbortError */
  cancel(): void;
  /** kills the worker outright (as a crash would); result then rejects */
  kill(): Promise<void>;
}

function abortError(): Error {
  const e = new Error('Fine-tuning was cancelled; the current head is unchanged.');
  e.name = 'AbortError';
  return e;
}

function spawn(data: WorkerRequest, workerUrl?: URL, log?: (line: string) => void): Worker {
  if (!workerUrl) return spawnModuleWorker(import.meta.url, './worker', data, log);
  const worker = new Worker(workerUrl, { workerData: data, stdout: !!log, stderr: !!log });
  if (log) for (const stream of [worker.stdout, worker.stderr]) forwardLines(stream, log);
  return worker;
}

export function startTrainingWorker(input: TrainInput, opts: WorkerRunOptions = {}): TrainingHandle {
  const req: WorkerRequest = { input };
  if (opts.fault) {
    req.faultAfterEpoch = opts.fault.afterEpoch;
    req.fault = opts.fault.kind;
  }
  let worker: Worker;
  let settled = false;
  let cancelled = false;
  let graceTimer: NodeJS.Timeout | undefined;
  let resolveFn!: (r: TrainResult) => void;
  let rejectFn!: (e: Error) => void;
  const result = new Promise<TrainResult>((res, rej) => {
    resolveFn = res;
    rejectFn = rej;
  });
  const finish = (r: { ok: TrainResult } | { err: Error }) => {
    if (settled) return;
    settled = true;
    if (graceTimer) clearTimeout(graceTimer);
    opts.signal?.removeEventListener('abort', cancel);
    if ('ok' in r) resolveFn(r.ok);
    else rejectFn(r.err);
    void worker.terminate();
  };
  const cancel = () => {
    if (settled || cancelled) return;
    cancelled = true;
    worker.postMessage({ type: 'cancel' });
    graceTimer = setTimeout(() => finish({ err: abortError() }), opts.cancelGraceMs ?? 2000);
  };

  try {
    worker = spawn(req, opts.workerUrl, opts.log);
  } catch (e) {
    return {
      result: Promise.reject(new Error(`could not start the fine-tune worker: ${(e as Error).message}`)),
      cancel: () => {},
      kill: async () => {},
    };
  }
  worker.on('message', (m: WorkerReply) => {
    if (m.type === 'log') {
      opts.log?.(m.message);
    } else if (m.type === 'epoch') {
      if (!cancelled) opts.onEpoch?.(m.epoch);
    } else if (m.type === 'done') {
      finish(cancelled ? { err: abortError() } : { ok: m.result });
    } else if (m.type === 'cancelled') {
      finish({ err: abortError() });
    } else {
      const e = new Error(m.message);
      e.name = m.name;
      finish({ err: e });
    }
  });
  worker.on('error', (e) => finish({ err: new Error(`the fine-tune worker crashed: ${e.message}`) }));
  worker.on('messageerror', (e) =>
    finish({ err: new Error(`the fine-tune worker sent a bad message: ${e.message}`) }),
  );
  worker.on('exit', (code) =>
    finish({
      err: cancelled
        ? abortError()
        : new Error(`the fine-tune worker stopped (exit code ${code}) before finishing`),
    }),
  );
  if (opts.signal) {
    if (opts.signal.aborted) cancel();
    else opts.signal.addEventListener('abort', cancel, { once: true });
  }
  return {
    result,
    cancel,
    kill: async () => {
      await worker.terminate();
    },
  };
}

/** Trains in a worker; `signal` cancels. */
export function runTrainingInWorker(input: TrainInput, opts: WorkerRunOptions = {}): Promise<TrainResult> {
  return startTrainingWorker(input, opts).result;
}
