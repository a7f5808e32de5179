/**
 * The backbone behind a worker thread (backbone.worker.ts), with Backbone's interface. The worker and
 * its ONNX Runtime session start lazily, on the first warm() or run(); if the worker dies, pending
 * calls fail with the reason and the next call starts a new one.
 */
import type { Worker } from 'node:worker_threads';
import type { ModelInput } from '../decode/decode-image';
import type { Pooled } from '../head/head-types';
import type { ModelManifest } from '../model/model-store';
import type { ProviderName } from '../runtime/execution-provider';
import { spawnModuleWorker } from '../runtime/module-worker';
import { runByShape, type BackboneRuntime } from './backbone';
import type { BackboneReply, BackboneRequest, BackboneWorkerData } from './backbone-protocol';

type Pending = { resolve: (r: BackboneReply) => void; reject: (e: Error) => void };

export class BackboneThread {
  runtime: BackboneRuntime | null = null;
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    readonly manifest: ModelManifest,
    private readonly modelPath: string,
    private readonly log: (m: string) => void = () => {},
    private readonly providers?: ProviderName[],
    private readonly int8Path?: string | null,
  ) {}

  /** the provider in use, once the model is loaded */
  get provider(): ProviderName | null {
    return this.runtime?.provider ?? null;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const data: BackboneWorkerData = {
      manifest: this.manifest,
      modelPath: this.modelPath,
      int8Path: this.int8Path,
      providers: this.providers,
    };
    const worker = spawnModuleWorker(import.meta.url, './backbone.worker', data, this.log);
    const failAll = (reason: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      const err = new Error(`the model worker stopped: ${reason}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('message', (m: BackboneReply) => {
      if (m.type === 'log') return this.log(m.message);
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.type === 'error') p.reject(new Error(m.message));
      else p.resolve(m);
    });
    worker.on('error', (e) => failAll(e.message));
    worker.on('exit', (code) => failAll(`exit code ${code}`));
    // an idle model worker must not keep the process alive (the CLI exits when its work is done)
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private call<T extends BackboneReply['type']>(
    req: BackboneRequest,
    transfer: ArrayBuffer[] = [],
  ): Promise<Extract<BackboneReply, { type: T }>> {
    const worker = this.start();
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { resolve: resolve as (r: BackboneReply) => void, reject });
      worker.ref(); // a call in flight keeps the process alive until it answers
      worker.postMessage(req, transfer);
    }).finally(() => {
      if (this.pending.size === 0) this.worker?.unref();
    }) as Promise<Extract<BackboneReply, { type: T }>>;
  }

  /** Starts the worker and its session now (to report the provider early). */
  async warm(): Promise<BackboneRuntime> {
    const r = await this.call<'warm'>({ type: 'warm', id: this.nextId++ });
    this.runtime = r.runtime;
    return r.runtime;
  }

  /** Photos of any shapes, one run per shape; runs are serialised by the worker. */
  async run(inputs: ModelInput[]): Promise<Pooled[]> {
    if (inputs.length === 0) return [];
    if (!this.provider) await this.warm(); // the first run loads the model; say where it runs
    return runByShape(inputs, async (batch) => {
      const r = await this.call<'run'>({ type: 'run', id: this.nextId++, batch }, [batch.pixels.buffer]);
      return r.pooled;
    });
  }

  async close(): Promise<void> {
    if (!this.worker) return;
    const worker = this.worker;
    await this.call<'closed'>({ type: 'close', id: this.nextId++ }).catch(() => {});
    this.worker = null;
    await worker.terminate();
  }
}
