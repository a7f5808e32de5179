/**
 * The backbone behind a worker thread (backbone.worker.ts), with Backbone's interface. The worker and
 * its ONNX Runtime session start lazily, on the first warm() or run(); if the worker dies, pending
 * calls fail with the reason and the next call starts a new one.
 */
import type { ModelInput } from '../decode/decode-image';
import type { Pooled } from '../head/head-types';
import type { ModelManifest } from '../model/model-store';
import type { ProviderName } from '../runtime/execution-provider';
import { spawnModuleWorker } from '../runtime/module-worker';
import { WorkerCalls } from '../runtime/worker-calls';
import { runByShape, type BackboneRuntime } from './backbone';
import type { BackboneReply, BackboneRequest, BackboneWorkerData } from './backbone-protocol';

/** Omit over each member of a union (the requests without their id, which WorkerCalls assigns). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class BackboneThread {
  runtime: BackboneRuntime | null = null;
  private readonly worker: WorkerCalls<Exclude<BackboneReply, { type: 'log' }>>;

  constructor(
    readonly manifest: ModelManifest,
    modelPath: string,
    private readonly log: (m: string) => void = () => {},
    providers?: ProviderName[],
    int8Path?: string | null,
  ) {
    const data: BackboneWorkerData = { manifest, modelPath, int8Path, providers };
    this.worker = new WorkerCalls({
      spawn: () => spawnModuleWorker(import.meta.url, './backbone.worker', data, this.log),
      name: 'the model worker',
      errorOf: (m) => (m.type === 'error' ? m.message : null),
      other: (m) => this.log((m as { message: string }).message),
    });
  }

  /** the provider in use, once the model is loaded */
  get provider(): ProviderName | null {
    return this.runtime?.provider ?? null;
  }

  private async call<T extends BackboneReply['type']>(
    req: DistributiveOmit<BackboneRequest, 'id'>,
    transfer: ArrayBuffer[] = [],
  ): Promise<Extract<BackboneReply, { type: T }>> {
    return (await this.worker.call(req, transfer)) as Extract<BackboneReply, { type: T }>;
  }

  /** Starts the worker and its session now (to report the provider early). */
  async warm(): Promise<BackboneRuntime> {
    const r = await this.call<'warm'>({ type: 'warm' });
    this.runtime = r.runtime;
    return r.runtime;
  }

  /** Photos of any shapes, one run per shape; runs are serialised by the worker. */
  async run(inputs: ModelInput[]): Promise<Pooled[]> {
    if (inputs.length === 0) return [];
    if (!this.provider) await this.warm(); // the first run loads the model; say where it runs
    return runByShape(inputs, async (batch) => {
      const r = await this.call<'run'>({ type: 'run', batch }, [batch.pixels.buffer]);
      return r.pooled;
    });
  }

  async close(): Promise<void> {
    if (!this.worker.started) return;
    await this.call<'closed'>({ type: 'close' }).catch(() => {});
    await this.worker.terminate();
  }
}
