/**
 * `npm run build:model` second step: the static int8 (QDQ) copy of a built fp32 backbone, for the
 * CPU provider. Calibrated on generated images (synthetic-photos.ts), never on photos: the shipped
 * ranges derive from code alone. Its quality on Holidays and its speed are in docs/model.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BACKBONES } from '../engine/model/model-spec';
import { ensureModel, sha256, type Int8Variant, type ModelManifest } from '../engine/model/model-store';
import { encodeOnnxModel } from '../engine/model/onnx-writer';
import { collectStats, combineRanges, type RangeStatistic } from './int8-calibration';
import { convertOptionsFor, kerasToGraph } from './keras-to-onnx';
import { loadKerasModel, nsfwjsRoot } from './nsfwjs-source';
import { channelsLastHeads, poolsAfterConvs, quantizeQdq } from './quantize-qdq';
import { syntheticPhoto } from './synthetic-photos';

/** Bump when the quantiser or its calibration changes: int8 models are rebuilt. */
export const QUANTIZER_VERSION = 2;

/** Chosen by measurement on Holidays (docs/model.md). */
export const CALIBRATION = { images: 48, statistic: 'max' as RangeStatistic, percentile: 0.9999 };

function isCurrent(m: ModelManifest, dir: string): boolean {
  const v = m.int8;
  return (
    !!v &&
    v.fromSha256 === m.sha256 &&
    v.quantizerVersion === QUANTIZER_VERSION &&
    v.calibration.images === CALIBRATION.images &&
    v.calibration.statistic === CALIBRATION.statistic &&
    fs.existsSync(path.join(dir, v.file))
  );
}

function writeAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** Builds the int8 copy when missing or stale; returns the manifest (with `int8`) and whether it built. */
export async function ensureInt8Model(
  id: string,
  modelsDir?: string,
  log: (m: string) => void = () => {},
): Promise<{ manifest: ModelManifest; built: boolean }> {
  const { manifest, modelPath } = ensureModel(id, modelsDir, log);
  const dir = path.dirname(modelPath);
  if (isCurrent(manifest, dir)) return { manifest, built: false };
  const spec = BACKBONES[id];
  const keras = loadKerasModel(spec.source, nsfwjsRoot());
  const { spec: fp32 } = kerasToGraph(keras, convertOptionsFor(spec));
  if (sha256(encodeOnnxModel(fp32)) !== manifest.sha256)
    throw new Error(`${modelPath} is not the converter's output for ${id}; rebuild it first`);
  // Rewrites equal in real arithmetic that keep ORT's int8 chain unbroken; ranges are measured on this graph.
  const graph = channelsLastHeads(poolsAfterConvs(fp32), spec.tap);
  log(`Calibrating the int8 ${id} backbone on ${CALIBRATION.images} generated images …`);
  const images = Array.from({ length: CALIBRATION.images }, (_, i) => syntheticPhoto(i, spec.inputSize));
  const stats = await collectStats(graph, manifest.input.name, images, spec.inputSize, CALIBRATION, log);
  const bytes = encodeOnnxModel(quantizeQdq(graph, combineRanges(stats, CALIBRATION.statistic)));
  const int8: Int8Variant = {
    file: 'backbone.int8.onnx',
    bytes: bytes.length,
    sha256: sha256(bytes),
    fromSha256: manifest.sha256,
    quantizerVersion: QUANTIZER_VERSION,
    calibration: {
      images: CALIBRATION.images,
      source: 'generated (model-build/synthetic-photos.ts)',
      statistic: CALIBRATION.statistic,
    },
  };
  writeAtomic(path.join(dir, int8.file), bytes);
  const updated = { ...manifest, int8 };
  writeAtomic(path.join(dir, 'manifest.json'), JSON.stringify(updated, null, 2) + '\n');
  return { manifest: updated, built: true };
}
