/**
 * The generated backbone models on disk: `<modelsDir>/<id>/backbone.onnx` + `manifest.json`.
 * Build time (`ensureModel`, `npm run build:model`): a missing or stale model (converter, source package
 * or spec changed) is rebuilt from nsfwjs. Run time (`loadInstalledModel`): the model is read as
 * installed, with no nsfwjs (a packaged app does not ship it); its checksum is checked when it is loaded
 * for inference (`checkModelBytes`), and one whose bytes do not match is refused, never silently used.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FitMode } from '../decode/decode-image';
import {
  BACKBONE_INPUT,
  BACKBONE_OUTPUTS,
  OPSET,
  convertOptionsFor,
  kerasToOnnx,
} from '../../model-build/keras-to-onnx';
import { BACKBONES, CONVERTER_VERSION, DEFAULT_BACKBONE, type BackboneSpec } from './model-spec';
import { resolveModelsDir } from './models-dir';
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
  /** further files of the same graph (e.g. a quantised variant), each with its own checksum */
  files?: ModelFile[];
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

/** One loadable file of a model and what its bytes must be. */
export interface ModelFile {
  file: string;
  bytes: number;
  sha256: string;
}

/** Every file the manifest vouches for, the main one first. */
export function modelFiles(m: ModelManifest): ModelFile[] {
  const int8 = m.int8 ? [{ file: m.int8.file, bytes: m.int8.bytes, sha256: m.int8.sha256 }] : [];
  return [{ file: m.file, bytes: m.bytes, sha256: m.sha256 }, ...(m.files ?? []), ...int8];
}

export class TamperedModelError extends Error {
  override name = 'TamperedModelError';
}

/** See models-dir.ts: LIKENESS_MODELS_DIR, the packaged app's resources, or the project's resources/models. */
export function defaultModelsDir(): string {
  return resolveModelsDir();
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
  return !!m && m.source.version === sourceVersion && matchesSpec(m, id, spec);
}

/** The manifest describes the graph this build of the app expects (whatever nsfwjs version it came from). */
function matchesSpec(m: ModelManifest, id: string, spec: BackboneSpec): boolean {
  return (
    m.id === id &&
    m.converterVersion === CONVERTER_VERSION &&
    typeof m.flops === 'number' &&
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

function specOf(id: string): BackboneSpec {
  const spec = BACKBONES[id];
  if (!spec) throw new Error(`Unknown backbone "${id}" (known: ${Object.keys(BACKBONES).join(', ')})`);
  return spec;
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
  const spec = specOf(id);
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
 * The int8 copy beside `modelPath`, or null when none was built or it is stale (quantised from another
 * fp32 model). Its bytes are checked like the fp32 model's when a session loads them (checkModelBytes).
 */
export function int8ModelPath(manifest: ModelManifest, modelPath: string): string | null {
  const v = manifest.int8;
  if (!v || v.fromSha256 !== manifest.sha256) return null;
  const file = path.join(path.dirname(modelPath), v.file);
  return fs.existsSync(file) ? file : null;
}

export function verifyModel(manifest: ModelManifest, modelPath: string): void {
  checkModelBytes(manifest, modelPath, fs.readFileSync(modelPath));
}

/**
 * Throws TamperedModelError unless `bytes` (read from `modelPath`) are a file the manifest vouches for.
 * Callers load these same bytes into ONNX Runtime, so what is checked is what runs.
 */
export function checkModelBytes(manifest: ModelManifest, modelPath: string, bytes: Uint8Array): void {
  const expected = modelFiles(manifest).find((f) => f.file === path.basename(modelPath));
  const actual = sha256(bytes);
  if (!expected || actual !== expected.sha256 || bytes.length !== expected.bytes) {
    throw new TamperedModelError(
      `Model file ${modelPath} does not match its manifest (sha256 ${actual.slice(0, 12)}… ≠ ${expected?.sha256.slice(0, 12) ?? 'none'}…): ` +
        'it was modified or corrupted, so it is refused. Delete the folder and run `npm run build:model` to rebuild it.',
    );
  }
}

export class ModelNotInstalledError extends Error {
  override name = 'ModelNotInstalledError';
}

export interface InstalledModel {
  manifest: ModelManifest;
  modelPath: string;
  /** `<id>@<first 12 hex of the file's sha256>`: stored pooled vectors belong to one model file */
  modelId: string;
}

/**
 * The model as installed, for inference: reads only the manifest (no nsfwjs, no hashing, so opening a
 * library stays instant); the bytes are checked when the model is loaded. `file` picks a variant.
 */
export function loadInstalledModel(
  id = DEFAULT_BACKBONE,
  modelsDir = defaultModelsDir(),
  file?: string,
): InstalledModel {
  const spec = specOf(id);
  const dir = path.join(modelsDir, id);
  const manifest = readManifest(path.join(dir, 'manifest.json'));
  if (!manifest)
    throw new ModelNotInstalledError(
      `The ${id} model is not installed in ${dir}. Run \`npm run build:model\` (npm ci and npm start do it).`,
    );
  if (!matchesSpec(manifest, id, spec))
    throw new ModelNotInstalledError(
      `The ${id} model in ${dir} was built for another version of Likeness. Run \`npm run build:model\` to rebuild it.`,
    );
  const entry = modelFiles(manifest).find((f) => f.file === (file ?? manifest.file));
  if (!entry)
    throw new ModelNotInstalledError(`The ${id} model has no file ${file} (see ${dir}/manifest.json)`);
  return {
    manifest,
    modelPath: path.join(dir, entry.file),
    modelId: `${manifest.id}@${entry.sha256.slice(0, 12)}`,
  };
}
