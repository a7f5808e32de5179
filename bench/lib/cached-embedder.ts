/**
 * A PhotoEmbedder that remembers what the product's embedder computed, keyed by the file's content
 * (and the region and input size asked for): benchmarks index the same photos into many fresh
 * libraries, and the backbone is deterministic, so only decode + backbone are skipped on a hit. Scan,
 * store, head policy and learning, HNSW and the query API stay the product's. Derived data under
 * .bench/ (safe to delete). A hit returns a one-byte placeholder tensor that only embed() understands
 * and no thumbnail, which the benchmarks never look at.
 */
import { envValue } from '../../src-main/engine/config';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ModelInput } from '../../src-main/engine/decode/decode-image';
import type { Pooled } from '../../src-main/engine/head/head-types';
import type { DecodedPhoto } from '../../src-main/engine/decode/decode-image';
import type { DecodeRequest, PhotoEmbedder } from '../../src-main/engine/embed/photo-embedder';

interface Entry {
  pooled: Pooled;
  width: number;
  height: number;
}

const KEY_BYTES = 20;

export interface CacheStats {
  hits: number;
  misses: number;
}

export class CachedEmbedder implements PhotoEmbedder {
  readonly stats: CacheStats = { hits: 0, misses: 0 };
  private readonly entries = new Map<string, Entry>();
  /** decoded tensor → its cache key (placeholders for hits, real tensors for misses) */
  private readonly keyOf = new WeakMap<ModelInput, string>();
  /** sizes of photos decoded on a miss, stored with their vectors */
  private readonly dims = new Map<string, [number, number]>();
  private readonly file: string;

  constructor(
    private readonly inner: PhotoEmbedder,
    cacheDir = path.resolve('.bench', 'embed-cache'),
  ) {
    // int8 and fp32 share a model id (their vectors differ a little): the precision is part of the key
    const tag =
      `${inner.modelId}-${inner.description.inputSize}-${envValue('LIKENESS_PRECISION') ?? 'default'}`.replace(
        /[^\w.@-]+/g,
        '_',
      );
    this.file = path.join(cacheDir, `${tag}.bin`);
    this.readCache();
  }

  get modelId(): string {
    return this.inner.modelId;
  }
  get channels(): number {
    return this.inner.channels;
  }
  get provider(): string | null {
    return this.inner.provider;
  }
  load(): Promise<string> {
    return this.inner.load?.() ?? Promise.resolve('cpu');
  }
  get description(): PhotoEmbedder['description'] {
    return this.inner.description;
  }

  async decode(source: string | Buffer, request: DecodeRequest = {}): Promise<DecodedPhoto> {
    const bytes = typeof source === 'string' ? await fs.promises.readFile(source) : source;
    const key = crypto
      .createHash('sha1')
      .update(bytes)
      .update(JSON.stringify(request.region ?? null))
      .digest('hex');
    const hit = this.entries.get(key);
    if (hit) {
      const tensor = { pixels: new Uint8Array(1), width: 0, height: 0 };
      this.keyOf.set(tensor, key);
      return { tensor, width: hit.width, height: hit.height, thumbnail: null, takenAt: null };
    }
    const decoded = await this.inner.decode(source, request);
    this.keyOf.set(decoded.tensor, key);
    this.dims.set(key, [decoded.width, decoded.height]);
    return decoded;
  }

  async embed(tensors: ModelInput[]): Promise<Pooled[]> {
    const out: (Pooled | undefined)[] = tensors.map((t) => {
      const key = this.keyOf.get(t);
      const e = key && t.width === 0 ? this.entries.get(key) : undefined;
      return e?.pooled;
    });
    const missing = tensors.map((_, i) => i).filter((i) => !out[i]);
    this.stats.hits += tensors.length - missing.length;
    this.stats.misses += missing.length;
    if (missing.length) {
      const computed = await this.inner.embed(missing.map((i) => tensors[i]));
      missing.forEach((i, k) => {
        out[i] = computed[k];
        const key = this.keyOf.get(tensors[i]);
        if (key) this.remember(key, computed[k]);
      });
    }
    return out as Pooled[];
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }

  private remember(key: string, pooled: Pooled): void {
    const c = this.channels;
    const [width, height] = this.dims.get(key) ?? [0, 0];
    this.dims.delete(key);
    this.entries.set(key, { pooled, width, height });
    const rec = Buffer.alloc(KEY_BYTES + 8 + 3 * c * 4);
    Buffer.from(key, 'hex').copy(rec, 0);
    rec.writeUInt32LE(width, KEY_BYTES);
    rec.writeUInt32LE(height, KEY_BYTES + 4);
    const f = new Float32Array(3 * c);
    f.set(pooled.S, 0);
    f.set(pooled.M, c);
    f.set(pooled.G, 2 * c);
    Buffer.from(f.buffer).copy(rec, KEY_BYTES + 8);
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.appendFileSync(this.file, rec);
  }

  private readCache(): void {
    if (!fs.existsSync(this.file)) return;
    const buf = fs.readFileSync(this.file);
    const c = this.channels;
    const size = KEY_BYTES + 8 + 3 * c * 4;
    for (let off = 0; off + size <= buf.length; off += size) {
      const key = buf.subarray(off, off + KEY_BYTES).toString('hex');
      const f = new Float32Array(
        buf.buffer.slice(buf.byteOffset + off + KEY_BYTES + 8, buf.byteOffset + off + size),
      );
      this.entries.set(key, {
        pooled: { S: f.subarray(0, c), M: f.subarray(c, 2 * c), G: f.subarray(2 * c, 3 * c) },
        width: buf.readUInt32LE(off + KEY_BYTES),
        height: buf.readUInt32LE(off + KEY_BYTES + 4),
      });
    }
  }
}
