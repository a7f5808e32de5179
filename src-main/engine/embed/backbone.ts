/**
 * The CGD backbone in ONNX Runtime: a batch of uint8 photos → their SPoC, MAC and GeM vectors.
 * The session is created lazily, on first use, so that opening the library stays instant; the model's
 * bytes are checked against the manifest then, and the checked bytes are what ONNX Runtime loads.
 */
import fs from 'node:fs';
import { envValue } from '../config';
import { loadOrt } from '../runtime/lazy-modules';
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

/** Copies same-size photos (size × size × 3 uint8 each) back to back into one batch buffer. */
export function packBatch(images: Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const per = size * size * 3;
  const batch = new Uint8Array(per * images.length);
  images.forEach((img, i) => {
    if (img.length !== per) throw new Error(`Backbone input ${i} has ${img.length} bytes, expected ${per}`);
    batch.set(img, i * per);
  });
  return batch;
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

  /**
   * All inputs must share one size (size × size × 3 uint8). Runs are serialised: ORT already uses
   * every core inside one run, and interleaving runs only thrashes caches.
   */
  run(images: Uint8Array[], size = this.manifest.input.size): Promise<Pooled[]> {
    const job = this.queue.then(() => this.runNow(images, size));
    this.queue = job.catch(() => {});
    return job;
  }

  private async runNow(images: Uint8Array[], size: number): Promise<Pooled[]> {
    if (images.length === 0) return [];
    const batch = packBatch(images, size);
    const { session } = await this.session();
    const { Tensor } = await loadOrt();
    const { outputs } = this.manifest;
    const result = await session.run({
      [this.manifest.input.name]: new Tensor('uint8', batch, [images.length, size, size, 3]),
    });
    const c = outputs.dim;
    const take = (name: string, i: number) => (result[name].data as Float32Array).slice(i * c, (i + 1) * c);
    return images.map((_, i) => ({ S: take(outputs.S, i), M: take(outputs.M, i), G: take(outputs.G, i) }));
  }

  async close(): Promise<void> {
    if (this.choice) await (await this.choice).session.release();
    this.choice = null;
  }
}
