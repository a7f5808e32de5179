/**
 * The CGD backbone in ONNX Runtime: a batch of uint8 photos → their SPoC, MAC and GeM vectors.
 * The session is created lazily, on first use, so that opening the library stays instant; the model's
 * bytes are checked against the manifest then, and the checked bytes are what ONNX Runtime loads.
 */
import fs from 'node:fs';
import { loadOrt } from '../runtime/lazy-modules';
import type { Pooled } from '../head/head-types';
import { checkModelBytes, type ModelManifest } from '../model/model-store';
import {
  createSessionWithFallback,
  type ProviderChoice,
  type ProviderName,
} from '../runtime/execution-provider';

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
  ) {}

  private session(): Promise<ProviderChoice> {
    if (this.choice) return this.choice;
    const choice = this.verifiedBytes()
      .then((bytes) => createSessionWithFallback(bytes, this.providers, this.log))
      .then((c) => {
        this.provider = c.provider;
        this.log(`Backbone ${this.manifest.id} running on ${c.provider}`);
        return c;
      });
    // a failed load (tampered file, no provider) reaches every caller, and the next call tries again
    choice.catch(() => this.choice === choice && (this.choice = null));
    this.choice = choice;
    return choice;
  }

  private async verifiedBytes(): Promise<Uint8Array> {
    const bytes = await fs.promises.readFile(this.modelPath);
    checkModelBytes(this.manifest, this.modelPath, bytes);
    return bytes;
  }

  /** Loads the session now (to report the provider early). */
  async warm(): Promise<ProviderName> {
    return (await this.session()).provider;
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
