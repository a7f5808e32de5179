import sharp from 'sharp';
import { greyFingerprint } from '../../src-main/engine/decode/fingerprint';
import type { ModelInput } from '../../src-main/engine/decode/decode-image';
import type { Pooled } from '../../src-main/engine/head/head-types';
import type { DecodedPhoto } from '../../src-main/engine/decode/decode-image';
import type { DecodeRequest, PhotoEmbedder } from '../../src-main/engine/embed/photo-embedder';

/**
 * A stand-in backbone for engine tests: decodes with sharp (so bad files fail as they would for real),
 * shrinks to a 4×4 RGB grid and derives the pooled vectors from those pixels. Identical pictures give
 * identical vectors, similar pictures similar ones. channels = 48.
 */
export class FakeEmbedder implements PhotoEmbedder {
  readonly modelId: string;
  readonly channels = 48;
  /** like the real one: null until the "model" is loaded (load() or the first embed) */
  provider: string | null = null;
  readonly description = { name: 'fake 4×4 pixels', tap: 'pixels', inputSize: 4 };
  embedCalls = 0;
  embedded = 0;

  constructor(private readonly opts: { modelId?: string; delayMs?: number; limitInputPixels?: number } = {}) {
    this.modelId = opts.modelId ?? 'fake-v1';
  }

  async decode(input: string | Buffer, req: DecodeRequest = {}): Promise<DecodedPhoto> {
    const name = typeof input === 'string' ? input : (req.label ?? 'image bytes');
    const limitInputPixels = this.opts.limitInputPixels ?? 100_000_000;
    try {
      const meta = await sharp(input, { limitInputPixels }).metadata();
      const swap = (meta.orientation ?? 1) >= 5;
      const width = (swap ? meta.height : meta.width) ?? 0;
      const height = (swap ? meta.width : meta.height) ?? 0;
      let img = sharp(input, { limitInputPixels, failOn: 'truncated' }).rotate();
      if (req.region) {
        const r = req.region;
        const left = Math.min(width - 1, Math.floor(r.x * width));
        const top = Math.min(height - 1, Math.floor(r.y * height));
        img = sharp(await img.png().toBuffer()).extract({
          left,
          top,
          width: Math.max(1, Math.min(width - left, Math.round(r.w * width))),
          height: Math.max(1, Math.min(height - top, Math.round(r.h * height))),
        });
      }
      const { data } = await img
        .clone()
        .removeAlpha()
        .resize(4, 4, { fit: 'fill' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      const thumbnail =
        req.thumbnail === false
          ? null
          : await img.clone().resize(32, 32, { fit: 'inside' }).webp().toBuffer();
      // the copy fingerprint, as the product takes it: from the whole photo
      const whole = await img.clone().removeAlpha().resize(64, 48, { fit: 'cover' }).raw().toBuffer();
      const fingerprint = greyFingerprint({ pixels: new Uint8Array(whole), width: 64, height: 48 });
      const tensor = { pixels: new Uint8Array(data), width: 4, height: 4 };
      return { tensor, width, height, thumbnail, takenAt: null, fingerprint };
    } catch (err) {
      throw new Error(`Cannot decode ${name}: ${(err as Error).message}`);
    }
  }

  async load(): Promise<string> {
    return (this.provider = 'cpu');
  }

  async embed(tensors: ModelInput[]): Promise<Pooled[]> {
    this.provider = 'cpu';
    this.embedCalls++;
    this.embedded += tensors.length;
    if (this.opts.delayMs) await new Promise((r) => setTimeout(r, this.opts.delayMs));
    return tensors.map((t) => {
      const S = new Float32Array(48);
      const M = new Float32Array(48);
      const G = new Float32Array(48);
      for (let i = 0; i < 48; i++) {
        const v = (t.pixels[i] ?? 0) / 255;
        S[i] = v - 0.5;
        M[i] = v * v - 0.33;
        G[i] = Math.sqrt(v) - 0.66;
      }
      return { S, M, G };
    });
  }
}
