/**
 * The generated backbone models on disk: `<modelsDir>/<id>/backbone.onnx` + `manifest.json`.
 * A missing or stale model (converter, source package or spec changed) is rebuilt from nsfwjs;
 * one whose bytes do not match the manifest's checksum is refused, never silently used.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FitMode } from '../decode/decode-image';
import {
  BACKBONE_INPUT,
  BACKBONE_OUTPUTS,
  OPSET,
  convertOptionsFor,
  kerasToOnnx,
} from '../../model-build/keras-to-onnx';
import { BACKBONES, CONVERTER_VERSION, DEFAULT_BACKBONE, type BackboneSpec } from './model-spec';
import { loadKerasModel, nsfwjsRoot, nsfwjsVersion } from '../../model-build/nsfwjs-source';

export interface ModelManifest {
  id: string;
  name: string;
  source: { package: string; version: string; model: string };
  tap: string;
  converterVersion: number;
  input: { name: string; dtype: 'uint8'; layout: 'NHWC'; channels: 'RGB'; size: number; fit: FitMode };
  /** applied inside the graph: x = pixel × scale + offset */
  preprocess: { scale: number; offset: number };
  outputs: { S: string; M: string; G: string; dim: number; gemP: number };
  /** input pixels per feature-map cell */
  stride: number;
  /** FLOPs of one image at input.size (convolutions) */
  flops: number;
  opset: number;
  file: string;
  bytes: number;
  sha256: string;
  createdAt: string;
  /** the static int8 (QDQ) copy for the CPU provider, when `npm run build:model` has written it */
  int8?: Int8Variant;
}

export interface Int8Variant {
  file: string;
  bytes: number;
  sha256: string;
  /** the fp32 model it was quantised from: a rebuilt fp32 model makes it stale */
  fromSha256: string;
  quantizerVersion: number;
  calibration: { images: number; source: string; statistic: string };
}

export class TamperedModelError extends Error {
  override name = 'TamperedModelError';
}

/** resources/models beside the project root (dev) or LIKENESS_MODELS_DIR (packaged app). */
export function defaultModelsDir(): string {
  if (process.env.LIKENESS_MODELS_DIR) return process.env.LIKENESS_MODELS_DIR;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'resources'))) {
      return path.join(dir, 'resources', 'models');
    }
    dir = path.dirname(dir);
  }
  return path.resolve('resources', 'models');
}

export const sha256 = (buf: Uint8Array) => crypto.createHash('sha256').update(buf).digest('hex');

function readManifest(file: string): ModelManifest | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ModelManifest;
  } catch {
    return null;
  }
}

function isCurrent(m: ModelManifest | null, id: string, spec: BackboneSpec, sourceVersion: string): boolean {
  return (
    !!m &&
    m.id === id &&
    m.converterVersion === CONVERTER_VERSION &&
    typeof m.flops === 'number' &&
    m.source.version === sourceVersion &&
    m.source.model === spec.source &&
    m.tap === spec.tap &&
    m.input.size === spec.inputSize &&
    m.input.fit === spec.fit &&
    m.preprocess.scale === spec.preprocess.scale &&
    m.preprocess.offset === spec.preprocess.offset &&
    m.outputs.gemP === spec.gemP
  );
}

export function buildModel(id: string, spec: BackboneSpec, modelsDir: string): ModelManifest {
  const root = nsfwjsRoot();
  const keras = loadKerasModel(spec.source, root);
  const converted = kerasToOnnx(keras, convertOptionsFor(spec));
  const dir = path.join(modelsDir, id);
  fs.mkdirSync(dir, { recursive: true });
  const manifest: ModelManifest = {
    id,
    name: `${spec.source === 'inception_v3' ? 'InceptionV3' : 'MobileNetV2'} @ ${spec.tap} (CGD pooling)`,
    source: { ...keras.source },
    tap: spec.tap,
    converterVersion: CONVERTER_VERSION,
    input: {
      name: BACKBONE_INPUT,
      dtype: 'uint8',
      layout: 'NHWC',
      channels: 'RGB',
      size: spec.inputSize,
      fit: spec.fit,
    },
    preprocess: { ...spec.preprocess },
    outputs: { ...BACKBONE_OUTPUTS, dim: converted.channels, gemP: spec.gemP },
    stride: converted.stride,
    flops: converted.flops,
    opset: OPSET,
    file: 'backbone.onnx',
    bytes: converted.bytes.length,
    sha256: sha256(converted.bytes),
    createdAt: new Date().toISOString(),
  };
  // Write-then-rename so that a crash never leaves a half-written model behind a valid manifest.
  const tmp = path.join(dir, `backbone.onnx.${process.pid}.tmp`);
  fs.writeFileSync(tmp, converted.bytes);
  fs.renameSync(tmp, path.join(dir, manifest.file));
  fs.writeFileSync(path.join(dir, 'manifest.json.tmp'), JSON.stringify(manifest, null, 2) + '\n');
  fs.renameSync(path.join(dir, 'manifest.json.tmp'), path.join(dir, 'manifest.json'));
  return manifest;
}

export interface EnsuredModel {
  manifest: ModelManifest;
  modelPath: string;
  built: boolean;
}

/** Returns a verified model, building it first when missing or stale. */
export function ensureModel(
  id = DEFAULT_BACKBONE,
  modelsDir = defaultModelsDir(),
  log: (m: string) => void = () => {},
): EnsuredModel {
  const spec = BACKBONES[id];
  if (!spec) throw new Error(`Unknown backbone "${id}" (known: ${Object.keys(BACKBONES).join(', ')})`);
  const dir = path.join(modelsDir, id);
  const manifestFile = path.join(dir, 'manifest.json');
  let manifest = readManifest(manifestFile);
  const modelPath = path.join(dir, 'backbone.onnx');
  let built = false;
  if (!isCurrent(manifest, id, spec, nsfwjsVersion()) || !fs.existsSync(modelPath)) {
    log(`Building the ${id} backbone from nsfwjs into ${dir} …`);
    manifest = buildModel(id, spec, modelsDir);
    built = true;
  }
  verifyModel(manifest!, modelPath);
  return { manifest: manifest!, modelPath, built };
}

/**
 * The verified int8 copy beside `modelPath`, or null when none was built or it is stale (quantised
 * from another fp32 model); a modified one is refused like the fp32 model.
 */
export function int8ModelPath(manifest: ModelManifest, modelPath: string): string | null {
  const v = manifest.int8;
  if (!v || v.fromSha256 !== manifest.sha256) return null;
  const file = path.join(path.dirname(modelPath), v.file);
  if (!fs.existsSync(file)) return null;
  verifyModel(v, file);
  return file;
}

export function verifyModel(manifest: { sha256: string; bytes: number }, modelPath: string): void {
  const bytes = fs.readFileSync(modelPath);
  const actual = sha256(bytes);
  if (actual !== manifest.sha256 || bytes.length !== manifest.bytes) {
    throw new TamperedModelError(
      `Model file ${modelPath} does not match its manifest (sha256 ${actual.slice(0, 12)}… ≠ ${manifest.sha256.slice(0, 12)}…): ` +
        'it was modified or corrupted, so it is refused. Delete the folder and run `npm run build:model` to rebuild it.',
    );
  }
}
