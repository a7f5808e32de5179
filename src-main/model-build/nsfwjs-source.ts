/**
 * Reads the Keras layers models bundled in the npm package `nsfwjs` (MIT): a topology JSON and
 * uint8-quantised weight shards, each wrapped in a UMD `.min.js` file. These are the only
 * ImageNet-initialised CNN weights available offline, so they seed the default backbone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

export type SourceModelName = 'inception_v3' | 'mobilenet_v2';

export interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  /** [[[inboundLayerName, nodeIndex, tensorIndex, kwargs], ...]] */
  inbound_nodes: [string, number, number, unknown][][];
}

export interface KerasModel {
  source: { package: 'nsfwjs'; version: string; model: SourceModelName };
  inputSize: number;
  layers: KerasLayer[];
  /** dequantised weights by name, e.g. "conv2d_1/kernel" */
  weights: Map<string, { shape: number[]; data: Float32Array }>;
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { min: number; scale: number; dtype: string };
}

export class ModelSourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelSourceError';
  }
}

const require = createRequire(import.meta.url);

/** Locates the installed nsfwjs package root (its `exports` map hides package.json). */
export function nsfwjsRoot(): string {
  let entry: string;
  try {
    entry = require.resolve('nsfwjs');
  } catch (e) {
    throw new ModelSourceError(
      'The npm package "nsfwjs" is not installed; it provides the pretrained weights of the default model. Run `npm ci`.',
      { cause: e },
    );
  }
  // .../nsfwjs/dist/cjs/index.js → .../nsfwjs
  return path.resolve(path.dirname(entry), '..', '..');
}

export function nsfwjsVersion(root = nsfwjsRoot()): string {
  const file = path.join(root, 'package.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')).version as string;
  } catch (e) {
    throw new ModelSourceError(`Cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** Evaluates one of the package's UMD wrappers and returns what it exports. */
function loadUmd(file: string): unknown {
  if (!fs.existsSync(file)) throw new ModelSourceError(`Missing model file ${file} (nsfwjs is incomplete).`);
  try {
    return require(file);
  } catch (e) {
    throw new ModelSourceError(`Corrupt model file ${file}: ${(e as Error).message}`, { cause: e });
  }
}

export function loadKerasModel(model: SourceModelName, root = nsfwjsRoot()): KerasModel {
  const dir = path.join(root, 'dist', 'models', model);
  const topoFile = path.join(dir, 'model.min.js');
  const json = loadUmd(topoFile) as {
    modelTopology?: { model_config?: { config?: { layers?: KerasLayer[] } } };
    weightsManifest?: { paths: string[]; weights: WeightSpec[] }[];
  };
  const layers = json?.modelTopology?.model_config?.config?.layers;
  const manifest = json?.weightsManifest;
  if (!Array.isArray(layers) || !Array.isArray(manifest)) {
    throw new ModelSourceError(
      `Corrupt model file ${topoFile}: no Keras layers topology or weights manifest.`,
    );
  }
  const input = layers.find((l) => l.class_name === 'InputLayer');
  const inputShape = (input?.config.batch_input_shape as number[] | undefined) ?? [];
  const inputSize = inputShape[1];
  if (!inputSize) throw new ModelSourceError(`Corrupt model file ${topoFile}: no input shape.`);

  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const group of manifest) {
    const parts = group.paths.map((p) => {
      const file = path.join(dir, `${p}.min.js`);
      const b64 = loadUmd(file);
      if (typeof b64 !== 'string')
        throw new ModelSourceError(`Corrupt weight shard ${file}: not base64 text.`);
      return Buffer.from(b64, 'base64');
    });
    const buf = Buffer.concat(parts);
    let offset = 0;
    for (const spec of group.weights) {
      const n = spec.shape.reduce((a, b) => a * b, 1);
      const q = spec.quantization;
      const bytesPer = q ? (q.dtype === 'uint8' ? 1 : q.dtype === 'uint16' ? 2 : 0) : 4;
      if (!bytesPer) throw new ModelSourceError(`Unsupported quantisation ${q?.dtype} for ${spec.name}`);
      if (offset + n * bytesPer > buf.length) {
        throw new ModelSourceError(
          `Corrupt weights in ${dir}: shards hold ${buf.length} bytes, ${spec.name} needs bytes up to ${offset + n * bytesPer}.`,
        );
      }
      const data = new Float32Array(n);
      if (q) {
        // Same arithmetic as tfjs' dequantisation: v * scale + min.
        const src =
          bytesPer === 1
            ? buf.subarray(offset, offset + n)
            : new Uint16Array(buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + offset + 2 * n));
        for (let i = 0; i < n; i++) data[i] = src[i] * q.scale + q.min;
      } else {
        data.set(
          new Float32Array(buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + offset + 4 * n)),
        );
      }
      offset += n * bytesPer;
      weights.set(spec.name, { shape: spec.shape, data });
    }
  }
  return { source: { package: 'nsfwjs', version: nsfwjsVersion(root), model }, inputSize, layers, weights };
}
