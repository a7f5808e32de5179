/**
 * The copy fingerprint: a 32×32 grey thumbnail of the model input (the whole photo, borders trimmed), stored per
 * photo. Two photos are copies when one is the other after resampling, re-encoding, a global tone change,
 * a crop or a border — i.e. when their thumbnails correlate after aligning scale and position. Pooled
 * CNN descriptors cannot tell that apart from another shot of the same scene (bracketed exposures and
 * bursts score 0.999 there; see docs/duplicates.md), pixel correlation can.
 */
import type { ModelInput } from './decode-image';

export const FINGERPRINT_SIDE = 32;
const N = FINGERPRINT_SIDE;

/** Box-averaged grey (BT.601 luma) of a model input, squeezed to N × N whatever its aspect. */
export function greyFingerprint({ pixels: rgb, width, height }: ModelInput): Uint8Array {
  if (rgb.length !== width * height * 3) throw new Error(`fingerprint: expected ${width}×${height}×3 pixels`);
  const sum = new Float64Array(N * N);
  const count = new Uint32Array(N * N);
  for (let y = 0; y < height; y++) {
    const row = Math.floor((y * N) / height) * N;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const k = row + Math.floor((x * N) / width);
      sum[k] += 0.299 * rgb[o] + 0.587 * rgb[o + 1] + 0.114 * rgb[o + 2];
      count[k]++;
    }
  }
  return Uint8Array.from(sum, (s, k) => Math.round(s / count[k]));
}

/**
 * Scales (zoom of b relative to a) and shifts (in fingerprint pixels) tried when aligning: they cover
 * crops to 80% and borders to 25% of the side, and off-centre crops by up to 2/32 of the side.
 */
const SCALES = [0.8, 0.85, 0.9, 0.95, 1, 1 / 0.95, 1 / 0.9, 1 / 0.85, 1 / 0.8];
const SHIFTS = [-2, -1, 0, 1, 2];

/** Pearson correlation of a with b resampled (bilinear) at zoom s and shift (dx, dy), over their overlap. */
function correlationAt(a: Uint8Array, b: Uint8Array, s: number, dx: number, dy: number): number {
  const c = (N - 1) / 2;
  let n = 0;
  let sa = 0;
  let sb = 0;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  for (let y = 0; y < N; y++) {
    const by = c + (y - c) * s + dy;
    if (by < 0 || by >= N - 1) continue;
    const y0 = Math.floor(by);
    const fy = by - y0;
    for (let x = 0; x < N; x++) {
      const bx = c + (x - c) * s + dx;
      if (bx < 0 || bx >= N - 1) continue;
      const x0 = Math.floor(bx);
      const fx = bx - x0;
      const i = y0 * N + x0;
      const vb =
        (1 - fy) * ((1 - fx) * b[i] + fx * b[i + 1]) + fy * ((1 - fx) * b[i + N] + fx * b[i + N + 1]);
      const va = a[y * N + x];
      n++;
      sa += va;
      sb += vb;
      saa += va * va;
      sbb += vb * vb;
      sab += va * vb;
    }
  }
  // Too little overlap says nothing.
  if (n < (N * N) / 2) return -1;
  const va = saa - (sa * sa) / n;
  const vb = sbb - (sb * sb) / n;
  // A flat patch (a blank frame) correlates with nothing.
  if (va < 1e-6 * n || vb < 1e-6 * n) return -1;
  return (sab - (sa * sb) / n) / Math.sqrt(va * vb);
}

/** Zoom ≥ 1 resamples b's centre onto a; zoom < 1 resamples a's centre onto b (so the overlap is whole). */
function aligned(a: Uint8Array, b: Uint8Array, zoom: number, dx: number, dy: number): number {
  return zoom >= 1 ? correlationAt(a, b, 1 / zoom, dx, dy) : correlationAt(b, a, zoom, -dx, -dy);
}

/**
 * The copy score of two fingerprints, in -1..1: the best correlation over alignments (a crop of b is b
 * zoomed in; b with a border is a zoomed in), found on a coarse grid and then refined, because a copy
 * has one exact alignment while another shot of the scene has none. 1 for the same pixels.
 */
export function copyScore(a: Uint8Array, b: Uint8Array): number {
  let best = { r: -1, zoom: 1, dx: 0, dy: 0 };
  for (const zoom of SCALES)
    for (const dy of SHIFTS)
      for (const dx of SHIFTS) {
        const r = aligned(a, b, zoom, dx, dy);
        if (r > best.r) best = { r, zoom, dx, dy };
      }
  // Local refinement with halving steps around the best grid point.
  let step = { zoom: 0.025, shift: 0.5 };
  for (let round = 0; round < 4; round++) {
    const c = best;
    for (const dz of [-1, 0, 1])
      for (const sy of [-1, 0, 1])
        for (const sx of [-1, 0, 1]) {
          if (!dz && !sy && !sx) continue;
          const zoom = c.zoom * (1 + dz * step.zoom);
          const dx = c.dx + sx * step.shift;
          const dy = c.dy + sy * step.shift;
          const r = aligned(a, b, zoom, dx, dy);
          if (r > best.r) best = { r, zoom, dx, dy };
        }
    step = { zoom: step.zoom / 2, shift: step.shift / 2 };
  }
  return best.r;
}
