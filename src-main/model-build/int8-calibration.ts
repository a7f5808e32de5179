/**
 * Activation ranges for the int8 backbone, measured by running the fp32 graph (with the calibrated
 * tensors as extra outputs) in ONNX Runtime over calibration images. Per tensor and image it keeps
 * the minimum, the maximum and a high percentile; `combineRanges` turns those into one range.
 */
import * as ort from 'onnxruntime-node';
import { encodeOnnxModel, type OnnxModelSpec } from '../engine/model/onnx-writer';
import { calibrationTensors, withCalibrationOutputs, type Range } from './quantize-qdq';

export interface TensorStats {
  min: number[];
  max: number[];
  /** per image: the value below which `percentile` of the tensor's elements lie */
  pct: number[];
}

export interface CalibrationOptions {
  /** per-image percentile kept besides min and max, e.g. 0.9999 */
  percentile: number;
}

const BINS = 2048;

function percentileOf(data: Float32Array, lo: number, hi: number, q: number): number {
  if (hi <= lo) return hi;
  const hist = new Uint32Array(BINS);
  const k = (BINS - 1) / (hi - lo);
  for (let i = 0; i < data.length; i++) hist[Math.floor((data[i] - lo) * k)]++;
  const target = q * data.length;
  let acc = 0;
  for (let b = 0; b < BINS; b++) {
    acc += hist[b];
    if (acc >= target) return lo + (b + 1) / k;
  }
  return hi;
}

export async function collectStats(
  spec: OnnxModelSpec,
  inputName: string,
  images: Uint8Array[],
  size: number,
  opts: CalibrationOptions,
  log: (m: string) => void = () => {},
): Promise<Map<string, TensorStats>> {
  const tensors = calibrationTensors(spec);
  const session = await ort.InferenceSession.create(encodeOnnxModel(withCalibrationOutputs(spec, tensors)), {
    graphOptimizationLevel: 'all',
  });
  const stats = new Map(tensors.map((t) => [t, { min: [], max: [], pct: [] } as TensorStats]));
  try {
    for (let i = 0; i < images.length; i++) {
      const out = await session.run({ [inputName]: new ort.Tensor('uint8', images[i], [1, size, size, 3]) });
      for (const t of tensors) {
        const data = out[t].data as Float32Array;
        let lo = Infinity;
        let hi = -Infinity;
        for (let j = 0; j < data.length; j++) {
          const v = data[j];
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        const s = stats.get(t)!;
        s.min.push(lo);
        s.max.push(hi);
        s.pct.push(percentileOf(data, lo, hi, opts.percentile));
      }
      if ((i + 1) % 8 === 0) log(`  calibration: ${i + 1}/${images.length} images`);
    }
  } finally {
    await session.release();
  }
  return stats;
}

export type RangeStatistic = 'max' | 'pct-max' | 'pct-mean';

/** One range per tensor: the overall max, or the largest / mean per-image percentile. */
export function combineRanges(
  stats: Map<string, TensorStats>,
  statistic: RangeStatistic,
): Map<string, Range> {
  const out = new Map<string, Range>();
  for (const [t, s] of stats) {
    const min = Math.min(...s.min);
    const max =
      statistic === 'max'
        ? Math.max(...s.max)
        : statistic === 'pct-max'
          ? Math.max(...s.pct)
          : s.pct.reduce((a, b) => a + b, 0) / s.pct.length;
    out.set(t, { min, max });
  }
  return out;
}
