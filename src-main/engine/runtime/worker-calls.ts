/**
 * Calls to a long-lived worker thread that answers each request by its id. The worker starts on the first
 * call; a call in flight keeps the process alive and an idle worker does not (the CLI exits when its work
 * is done); if the worker dies, pending calls fail with the reason and the next call starts a new one.
 */
import type { Worker } from 'node:worker_threads';

export interface WorkerCallsOptions<Reply> {
  spawn: () => Worker;
  /** how failures name the worker, e.g. 'the model worker' */
  name: string;
  /** the error a reply carries, if it is one */
  errorOf: (reply: Reply) => string | null;
  /** a message that answers no call (one without an id, e.g. a log line) */
  other?: (message: unknown) => void;
}

export class WorkerCalls<Reply extends { id: number }> {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  constructor(private readonly opts: WorkerCallsOptions<Reply>) {}

  get started(): boolean {
    return this.worker !== null;
  }

  /** Sends `request` with a fresh id; resolves with the reply that carries it. */
  call(request: object, transfer: ArrayBuffer[] = []): Promise<Reply> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...request, id }, transfer);
    }).finally(() => {
      if (this.pending.size === 0) this.worker?.unref();
    });
  }

  /** Ends the worker; calls still in flight fail (they would otherwise never settle). */
  async terminate(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.failPending(`${this.opts.name} was closed`);
    if (worker) await worker.terminate();
  }

  private failPending(message: string): void {
    const err = new Error(message);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = this.opts.spawn();
    const failAll = (reason: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.failPending(`${this.opts.name} stopped: ${reason}`);
    };
    worker.on('message', (m: Reply) => {
      if (typeof m?.id !== 'number') return this.opts.other?.(m);
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      const error = this.opts.errorOf(m);
      if (error !== null) p.reject(new Error(error));
      else p.resolve(m);
    });
    worker.on('error', (e) => failAll(e.message));
    worker.on('exit', (code) => failAll(`exit code ${code}`));
    worker.unref();
    this.worker = worker;
    return worker;
  }
}

/**
 * The one result of a worker that posts `{ ok }` or `{ error }` once and ends: settles with it, or rejects
 * if the worker crashes or exits first. The worker is ended either way.
 */
export function workerResult<T>(worker: Worker, name: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    worker.once('message', (m: { ok: T } | { error: string }) =>
      'ok' in m ? resolve(m.ok) : reject(new Error(`${name} failed: ${m.error}`)),
    );
    worker.once('error', (e) => reject(new Error(`${name} crashed: ${e.message}`)));
    worker.once('exit', (code) => reject(new Error(`${name} stopped (exit code ${code}) before finishing`)));
  }).finally(() => void worker.terminate());
}
