/**
 * The copy fingerprint: a 32×32 grey thumbnail of the model input's centre square (borders trimmed), stored per
 * photo. Two photos are copies when one is the other after resampling, re-encoding, a global tone change,
 * a crop or a border — i.e. when their thumbnails correlate after aligning scale and position. Pooled
 * CNN descriptors cannot tell that apart from another shot of the same scene (bracketed exposures and
 * bursts score 0.999 there; see docs/duplicates.md), pixel correlation can.
 */
import type { ModelInput } from './decode-image';

export const FINGERPRINT_SIDE = 32;
const N = FINGERPRINT_SIDE;

/**
 * Box-averaged grey (BT.601 luma) of the model input's centre square. The square, not the whole frame: a
 * crop or a trimmed border may change a photo's aspect, which a squeezed frame would turn into a stretch
 * that no zoom-and-shift alignment undoes, while the centre squares stay a zoom of each other.
 */
export function greyFingerprint({ pixels: rgb, width, height }: ModelInput): Uint8Array {
  if (rgb.length !== width * height * 3) throw new Error(`fingerprint: expected ${width}×${height}×3 pixels`);
  const side = Math.min(width, height);
  const x0 = (width - side) >> 1;
  const y0 = (height - side) >> 1;
  const sum = new Float64Array(N * N);
  const count = new Uint32Array(N * N);
  for (let y = 0; y < side; y++) {
    const row = Math.floor((y * N) / side) * N;
    for (let x = 0; x < side; x++) {
      const o = ((y0 + y) * width + x0 + x) * 3;
      const k = row + Math.floor((x * N) / side);
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
/**
 * Centred correlation under which a pair is not searched further: far below the copy slider's range
 * (0.8–1), and copies of every planted kind score above it centred (shifts only refine them).
 */
const EARLY_REJECT = 0.6;

/** Pearson correlation of a with b resampled (bilinear) at zoom s and shift (dx, dy), over their overlap. */
function correlationAt(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  s: number,
  dx: number,
  dy: number,
): number {
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
function aligned(a: ArrayLike<number>, b: ArrayLike<number>, zoom: number, dx: number, dy: number): number {
  return zoom >= 1 ? correlationAt(a, b, 1 / zoom, dx, dy) : correlationAt(b, a, zoom, -dx, -dy);
}

/**
 * The copy score of two fingerprints, in -1..1: the best correlation over alignments (a crop of b is b
 * zoomed in; b with a border is a zoomed in), found on a coarse grid and then refined, because a copy
 * has one exact alignment while another shot of the scene has none. 1 for the same pixels.
 */
/** A [1 2 1]² blur: resampling one box-averaged grid onto another at a zoom blurs it; blurring both evens that out. */
function smooth(f: Uint8Array): Float32Array {
  const out = new Float32Array(N * N);
  const at = (x: number, y: number) =>
    f[Math.min(N - 1, Math.max(0, y)) * N + Math.min(N - 1, Math.max(0, x))];
  for (let y = 0; y < N; y++)
    for (let x = 0; x < N; x++) {
      let s = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) s += (2 - Math.abs(dx)) * (2 - Math.abs(dy)) * at(x + dx, y + dy);
      out[y * N + x] = s / 16;
    }
  return out;
}

/**
 * Each value replaced by its rank in the fingerprint (0..1; ties share their mean rank): a tone change
 * that keeps the order of grey levels — brightness, contrast, gamma, even clipping — leaves it unchanged,
 * where a linear correlation only forgives the linear part.
 */
function equalised(f: Uint8Array): Uint8Array {
  const count = new Uint32Array(256);
  for (const v of f) count[v]++;
  const rank = new Uint8Array(256);
  let below = 0;
  for (let v = 0; v < 256; v++) {
    rank[v] = Math.round((255 * (below + (count[v] - 1) / 2)) / Math.max(1, f.length - 1));
    below += count[v];
  }
  return f.map((v) => rank[v]);
}

export function copyScore(fa: Uint8Array, fb: Uint8Array): number {
  const a = smooth(equalised(fa));
  const b = smooth(equalised(fb));
  let best = { r: -1, zoom: 1, dx: 0, dy: 0 };
  // Zoom first, centred: most pairs a library offers are not copies and stop here (9 alignments, not 225).
  for (const zoom of SCALES) {
    const r = aligned(a, b, zoom, 0, 0);
    if (r > best.r) best = { r, zoom, dx: 0, dy: 0 };
  }
  if (best.r < EARLY_REJECT) return best.r;
  // Then shifts at the best zoom and its grid neighbours.
  const z = SCALES.indexOf(best.zoom);
  for (const zoom of SCALES.slice(Math.max(0, z - 1), z + 2))
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
