/**
 * Pooled CGD vectors of a dataset's images, computed once with the real model and cached under
 * .bench/ (derived data: safe to delete). Benchmarks then evaluate heads in seconds.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Pooled } from '../../src-main/engine/head/head-types';
import { decodeImage, type FitMode } from '../../src-main/engine/decode/decode-image';
import { Backbone } from '../../src-main/engine/embed/backbone';
import { ensureModel, int8ModelPath } from '../../src-main/engine/model/model-store';
import { DEFAULT_BACKBONE } from '../../src-main/engine/model/model-spec';
import { loadDataset, imagePath } from './datasets';

export interface PooledOptions {
  backbone?: string;
  /** input size override (the graph accepts any size) */
  size?: number;
  fit?: FitMode;
  /** also embed the horizontally mirrored photo (stored as a second set) */
  flip?: boolean;
  /** the int8 copy (what the CPU provider runs) instead of fp32 */
  precision?: 'fp32' | 'int8';
  /** ignore the cache and recompute */
  fresh?: boolean;
  log?: (m: string) => void;
}

export interface PooledSet {
  paths: string[];
  pooled: Pooled[];
  /** mirrored photos' vectors when options.flip */
  flipped?: Pooled[];
  channels: number;
}

export function mirror(px: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(px.length);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const s = (y * size + x) * 3;
      const d = (y * size + (size - 1 - x)) * 3;
      out[d] = px[s];
      out[d + 1] = px[s + 1];
      out[d + 2] = px[s + 2];
    }
  return out;
}

function encode(sets: Pooled[], c: number): Buffer {
  const buf = new Float32Array(sets.length * 3 * c);
  sets.forEach((p, i) => {
    buf.set(p.S, (i * 3 + 0) * c);
    buf.set(p.M, (i * 3 + 1) * c);
    buf.set(p.G, (i * 3 + 2) * c);
  });
  return Buffer.from(buf.buffer);
}

function decodeSets(buf: Buffer, n: number, c: number): Pooled[] {
  const f = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return Array.from({ length: n }, (_, i) => ({
    S: f.slice((i * 3 + 0) * c, (i * 3 + 1) * c),
    M: f.slice((i * 3 + 1) * c, (i * 3 + 2) * c),
    G: f.slice((i * 3 + 2) * c, (i * 3 + 3) * c),
  }));
}

export async function loadOrComputePooled(datasetDir: string, opts: PooledOptions = {}): Promise<PooledSet> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const ds = loadDataset(datasetDir);
  const { manifest, modelPath } = ensureModel(opts.backbone ?? DEFAULT_BACKBONE, undefined, log);
  const int8 = opts.precision === 'int8' ? int8ModelPath(manifest, modelPath) : null;
  if (opts.precision === 'int8' && !int8) throw new Error('no int8 model: run `npm run build:model`');
  const size = opts.size ?? manifest.input.size;
  const fit = opts.fit ?? manifest.input.fit;
  const paths = ds.files.map((_, i) => imagePath(ds, i));
  const key = crypto
    .createHash('sha1')
    .update(JSON.stringify([int8 ? manifest.int8!.sha256 : manifest.sha256, size, fit, !!opts.flip, paths]))
    .digest('hex')
    .slice(0, 16);
  const cacheFile = path.resolve(
    '.bench',
    `pooled-${path.basename(datasetDir)}-${manifest.id}${int8 ? '-int8' : ''}-${size}-${fit}${opts.flip ? '-flip' : ''}-${key}.bin`,
  );
  const c = manifest.outputs.dim;
  const n = paths.length;
  if (!opts.fresh && fs.existsSync(cacheFile)) {
    const buf = fs.readFileSync(cacheFile);
    const all = decodeSets(buf, opts.flip ? 2 * n : n, c);
    return { paths, pooled: all.slice(0, n), flipped: opts.flip ? all.slice(n) : undefined, channels: c };
  }
  const backbone = int8
    ? new Backbone(manifest, modelPath, log, ['cpu'], int8)
    : new Backbone(manifest, modelPath, log);
  const pooled: Pooled[] = new Array(n);
  const flipped: Pooled[] = new Array(n);
  const batch = 8;
  const t0 = Date.now();
  for (let i = 0; i < n; i += batch) {
    const idx = Array.from({ length: Math.min(batch, n - i) }, (_, k) => i + k);
    const decoded = await Promise.all(idx.map((j) => decodeImage(paths[j], { input: { size, fit } })));
    const out = await backbone.run(
      decoded.map((d) => d.tensor),
      size,
    );
    idx.forEach((j, k) => (pooled[j] = out[k]));
    if (opts.flip) {
      const outF = await backbone.run(
        decoded.map((d) => mirror(d.tensor, size)),
        size,
      );
      idx.forEach((j, k) => (flipped[j] = outF[k]));
    }
    if ((i / batch) % 20 === 0)
      log(`  embedded ${Math.min(i + batch, n)}/${n} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  await backbone.close();
  fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
  fs.writeFileSync(cacheFile, encode(opts.flip ? [...pooled, ...flipped] : pooled, c));
  return { paths, pooled, flipped: opts.flip ? flipped : undefined, channels: c };
}
