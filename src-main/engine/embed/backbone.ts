/**
 * The CGD backbone in ONNX Runtime: a batch of uint8 photos → their SPoC, MAC and GeM vectors.
 * The session is created lazily, on first use, so that opening the library stays instant; the model's
 * bytes are checked against the manifest then, and the checked bytes are what ONNX Runtime loads.
 */
import fs from 'node:fs';
import { envValue } from '../config';
import { loadOrt } from '../runtime/lazy-modules';
import type { ModelInput } from '../decode/decode-image';
import type { Pooled } from '../head/head-types';
import { checkModelBytes, type ModelManifest } from '../model/model-store';
import {
  createSessionWithFallback,
  type ModelFor,
  type Precision,
  type ProviderChoice,
  type ProviderName,
  type SkippedProvider,
} from '../runtime/execution-provider';

/** The provider a session runs on, the model precision it picked, and why better providers were skipped. */
export interface BackboneRuntime {
  provider: ProviderName;
  precision: Precision;
  skipped: SkippedProvider[];
}

/**
 * The CPU runs the int8 copy where one was built (3× faster for −0.4 mAP on Holidays: docs/model.md);
 * GPUs keep fp32. LIKENESS_PRECISION=fp32 keeps the CPU on fp32 too.
 */
export function backboneModelFor(
  fp32: string | Uint8Array,
  int8: string | Uint8Array | null | undefined,
): ModelFor {
  return (provider) =>
    provider === 'cpu' && int8 && envValue('LIKENESS_PRECISION') !== 'fp32'
      ? { model: int8, precision: 'int8' }
      : { model: fp32, precision: 'fp32' };
}

/** Inputs of one shape, packed back to back: one backbone run. */
export interface ShapeBatch {
  width: number;
  height: number;
  count: number;
  pixels: Uint8Array<ArrayBuffer>;
}

/**
 * Splits a batch of photos into runs of one shape each ('full' inputs keep their aspect, so a batch may
 * hold a few), remembering where each photo came from. Inputs must be height × width × 3 uint8.
 */
export function packByShape(inputs: ModelInput[]): { batches: ShapeBatch[]; order: number[][] } {
  const groups = new Map<string, number[]>();
  inputs.forEach((t, i) => {
    if (t.pixels.length !== t.width * t.height * 3)
      throw new Error(`Backbone input ${i} has ${t.pixels.length} bytes, expected ${t.width}×${t.height}×3`);
    const key = `${t.width}x${t.height}`;
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  });
  const order = [...groups.values()];
  const batches = order.map((idx) => {
    const { width, height } = inputs[idx[0]];
    const per = width * height * 3;
    const pixels = new Uint8Array(per * idx.length);
    idx.forEach((i, k) => pixels.set(inputs[i].pixels, k * per));
    return { width, height, count: idx.length, pixels };
  });
  return { batches, order };
}

/** Runs each one-shape batch and puts the results back in the inputs' order. */
export async function runByShape(
  inputs: ModelInput[],
  run: (batch: ShapeBatch) => Promise<Pooled[]>,
): Promise<Pooled[]> {
  const { batches, order } = packByShape(inputs);
  const out = new Array<Pooled>(inputs.length);
  for (let b = 0; b < batches.length; b++) {
    const pooled = await run(batches[b]);
    order[b].forEach((i, k) => (out[i] = pooled[k]));
  }
  return out;
}

export class Backbone {
  private choice: Promise<ProviderChoice> | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  provider: ProviderName | null = null;

  constructor(
    readonly manifest: ModelManifest,
    private readonly modelPath: string,
    private readonly log: (m: string) => void = () => {},
    private readonly providers?: ProviderName[],
    /** the int8 copy for the CPU (model-store's int8ModelPath), if any */
    private readonly int8Path?: string | null,
  ) {}

  private session(): Promise<ProviderChoice> {
    if (this.choice) return this.choice;
    const choice = this.verifiedModels()
      .then(({ fp32, int8 }) =>
        createSessionWithFallback(backboneModelFor(fp32, int8), this.providers, this.log),
      )
      .then((c) => {
        this.provider = c.provider;
        this.log(`Backbone ${this.manifest.id} running on ${c.provider} (${c.precision})`);
        return c;
      });
    // a failed load (tampered file, no provider) reaches every caller, and the next call tries again
    choice.catch(() => this.choice === choice && (this.choice = null));
    this.choice = choice;
    return choice;
  }

  /** The model files' bytes, checked against the manifest: what is checked is what ONNX Runtime loads. */
  private async verifiedModels(): Promise<{ fp32: Uint8Array; int8: Uint8Array | null }> {
    const read = async (file: string) => {
      const bytes = await fs.promises.readFile(file);
      checkModelBytes(this.manifest, file, bytes);
      return bytes;
    };
    return { fp32: await read(this.modelPath), int8: this.int8Path ? await read(this.int8Path) : null };
  }

  /** Loads the session now (to report the provider early). */
  async warm(): Promise<BackboneRuntime> {
    const { provider, precision, skipped } = await this.session();
    return { provider, precision, skipped };
  }

  /** Photos of any shapes, one run per shape. */
  run(inputs: ModelInput[]): Promise<Pooled[]> {
    return runByShape(inputs, (b) => this.runBatch(b));
  }

  /**
   * One run over photos of one shape. Runs are serialised: ORT already uses every core inside one run,
   * and interleaving runs only thrashes caches.
   */
  runBatch(batch: ShapeBatch): Promise<Pooled[]> {
    const job = this.queue.then(() => this.runNow(batch));
    this.queue = job.catch(() => {});
    return job;
  }

  private async runNow({ width, height, count, pixels }: ShapeBatch): Promise<Pooled[]> {
    if (count === 0) return [];
    const { session } = await this.session();
    const { Tensor } = await loadOrt();
    const { outputs } = this.manifest;
    const result = await session.run({
      [this.manifest.input.name]: new Tensor('uint8', pixels, [count, height, width, 3]),
    });
    const c = outputs.dim;
    const take = (name: string, i: number) => (result[name].data as Float32Array).slice(i * c, (i + 1) * c);
    return Array.from({ length: count }, (_, i) => ({
      S: take(outputs.S, i),
      M: take(outputs.M, i),
      G: take(outputs.G, i),
    }));
  }

  async close(): Promise<void> {
    if (this.choice) await (await this.choice).session.release();
    this.choice = null;
  }
}
