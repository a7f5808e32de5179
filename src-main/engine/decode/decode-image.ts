/**
 * Decoding: any supported photo → the backbone's uint8 RGB input (NHWC rows, exactly sharp's raw
 * output, so no per-pixel work in JS) plus a small WebP thumbnail, with EXIF orientation applied.
 * sharp decodes JPEG/PNG/WebP/AVIF/TIFF/GIF; HEVC-coded HEIC goes through heic-decode.
 */
import fs from 'node:fs/promises';
import type { Metadata, Sharp } from 'sharp';
import { loadSharp } from '../runtime/lazy-modules';
import { InvalidInputError } from '../errors';
import { contentRect } from './border-trim';
import type { Box } from './box';
import { exifTakenAt } from './exif-date';

/**
 * How a photo is fitted to the model's input: the whole photo with its aspect kept ('full', about size²
 * pixels; see fullFrameSize), or a size × size square squashed, centre-cropped or padded from it.
 */
export type FitMode = 'full' | 'squash' | 'crop' | 'pad';

export interface InputSpec {
  size: number;
  fit: FitMode;
}

/** The backbone's input for one photo: height × width × 3 uint8, row-major RGB (sharp's raw output). */
export interface ModelInput {
  pixels: Uint8Array;
  width: number;
  height: number;
}

/** The model input's size for a whole photo: its aspect kept (within 1:2…2:1), about size² pixels. */
export function fullFrameSize(
  width: number,
  height: number,
  size: number,
): { width: number; height: number } {
  // Sides in multiples of 32 keep the number of distinct input shapes (and so of batches) small.
  const round32 = (v: number) => Math.max(32, Math.round(v / 32) * 32);
  const aspect = Math.min(2, Math.max(0.5, width / height));
  return { width: round32(size * Math.sqrt(aspect)), height: round32(size / Math.sqrt(aspect)) };
}

export interface DecodeOptions {
  input: InputSpec;
  /** longest side of the WebP thumbnail (of the decoded area); 0 = none */
  thumbnailSize?: number;
  /** region of the photo to use, in 0..1 of its (oriented) width/height */
  region?: Box;
}

/** A decoded photo: what the embedder and the indexer work with. */
export interface DecodedPhoto {
  /** the backbone's input, uniform borders trimmed (opaque to the pipeline) */
  tensor: ModelInput;
  /** oriented size of the original */
  width: number;
  height: number;
  /** small WebP, or null when not asked for */
  thumbnail: Buffer | null;
  takenAt: number | null;
  /** the copy fingerprint of the model input (fingerprint.ts), added by the embedder; fakes may leave it out */
  fingerprint?: Uint8Array;
}

/** Refuse decompression bombs: 200 megapixels is well above any camera's output. */
export const MAX_PIXELS = 200_000_000;

export class DecodeError extends InvalidInputError {
  constructor(
    readonly file: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot decode ${file}: ${reason}`, options);
  }
}

const HEIF_BRANDS = /^(heic|heix|hevc|hevx|heim|heis|mif1|msf1)$/;

function isHeif(buf: Buffer): boolean {
  return (
    buf.length > 12 &&
    buf.toString('latin1', 4, 8) === 'ftyp' &&
    HEIF_BRANDS.test(buf.toString('latin1', 8, 12))
  );
}

async function heifToSharp(buf: Buffer): Promise<Sharp> {
  const { default: decode } = await import('heic-decode');
  const img = await decode({ buffer: buf });
  const sharp = await loadSharp();
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 4 },
    limitInputPixels: MAX_PIXELS,
  });
}

/** How sharp opens a photo, by path or bytes: bomb-guarded, failing on corrupt data, first frame only. */
const SHARP_INPUT = { limitInputPixels: MAX_PIXELS, failOn: 'error', animated: false } as const;

/**
 * A sharp pipeline over a photo's bytes, bomb-guarded; HEVC-coded HEIC (which sharp cannot decode)
 * goes through heic-decode first. Shared by decoding for the model and by display conversion.
 */
export async function openImage(buf: Buffer): Promise<Sharp> {
  const sharp = await loadSharp();
  return isHeif(buf)
    ? heifToSharp(buf).catch(() => sharp(buf, { limitInputPixels: MAX_PIXELS }))
    : sharp(buf, SHARP_INPUT);
}

function describe(e: unknown): string {
  const msg = (e as Error)?.message ?? String(e);
  if (/pixel limit/i.test(msg))
    return `image is larger than ${MAX_PIXELS / 1e6} megapixels (decompression-bomb guard)`;
  if (/unsupported image format/i.test(msg)) return 'not an image, or an unsupported format';
  if (/premature end|truncated|VipsJpeg|corrupt|bad|invalid/i.test(msg))
    return `corrupt or truncated image (${msg.trim()})`;
  return msg.trim();
}

/** Why a file could not be read, in the user's words. */
function readFailure(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT'
    ? 'the file no longer exists'
    : code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : describe(e);
}

/**
 * A file opened by path, so that libvips reads it on its own thread: reading it into a Buffer first
 * cost the engine's thread ~10 round trips and a 3 MB allocation per photo (about 4% of indexing time
 * on 2 cores). HEVC-coded HEIC, and any file sharp cannot even read the header of, go through the
 * bytes (openImage), which also names what is wrong (missing, unreadable, empty, not an image).
 */
async function openFile(file: string): Promise<{ base: Sharp; meta: Metadata } | null> {
  const sharp = await loadSharp();
  const base = sharp(file, SHARP_INPUT);
  try {
    const meta = await base.metadata();
    return meta.format === 'heif' && meta.compression === 'hevc' ? null : { base, meta };
  } catch {
    return null;
  }
}

/** Decodes a file path or in-memory bytes. Errors are DecodeError naming the file and the cause. */
export async function decodeImage(
  source: string | Buffer,
  opts: DecodeOptions,
  label?: string,
): Promise<DecodedPhoto> {
  const name = label ?? (typeof source === 'string' ? source : 'dropped image');
  const opened = typeof source === 'string' ? await openFile(source) : null;
  let buf: Buffer | null = null;
  if (!opened) {
    try {
      buf = typeof source === 'string' ? await fs.readFile(source) : source;
    } catch (e) {
      throw new DecodeError(name, readFailure(e), { cause: e });
    }
    if (buf.length === 0) throw new DecodeError(name, 'the file is empty');
  }
  try {
    const sharp = await loadSharp();
    const base = opened?.base ?? (await openImage(buf!));
    const meta = opened?.meta ?? (await base.metadata());
    // Apply EXIF orientation only when there is one: rotate() costs JPEG shrink-on-load otherwise.
    const orientation = meta.orientation ?? 1;
    const oriented = orientation > 1 ? base.rotate() : base;
    const swap = orientation >= 5;
    const width = (swap ? meta.height : meta.width) ?? 0;
    const height = (swap ? meta.width : meta.height) ?? 0;
    if (!width || !height) throw new Error('image has no dimensions');

    let source = oriented;
    if (opts.region) {
      const r = opts.region;
      const left = Math.max(0, Math.min(width - 1, Math.round(r.x * width)));
      const top = Math.max(0, Math.min(height - 1, Math.round(r.y * height)));
      const w = Math.max(1, Math.min(width - left, Math.round(r.w * width)));
      const h = Math.max(1, Math.min(height - top, Math.round(r.h * height)));
      // extract() applies before rotate() in one sharp pipeline, so materialise the rotation first.
      const full = await oriented.raw().toBuffer({ resolveWithObject: true });
      source = sharp(full.data, { raw: full.info, limitInputPixels: MAX_PIXELS }).extract({
        left,
        top,
        width: w,
        height: h,
      });
    }
    // Decode once, shrinking on load to just cover both outputs (JPEG decodes at 1/2…1/8 scale),
    // then derive the model input and the thumbnail from that small RGB buffer.
    const { size, fit } = opts.input;
    const thumbSize = opts.thumbnailSize ?? 0;
    const cover = Math.max(size, thumbSize);
    const mid = await source
      .resize(cover, cover, { fit: 'outside', withoutEnlargement: true, kernel: 'lanczos3' })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const fromMid = () =>
      sharp(mid.data, {
        raw: { width: mid.info.width, height: mid.info.height, channels: mid.info.channels },
      });
    // The model sees the photo without its uniform border (border-trim.ts); the thumbnail keeps it.
    const content = contentRect(mid.data, mid.info.width, mid.info.height, mid.info.channels);
    const trimmed =
      content.width === mid.info.width && content.height === mid.info.height
        ? fromMid()
        : fromMid().extract(content);
    const out =
      fit === 'full' ? fullFrameSize(content.width, content.height, size) : { width: size, height: size };
    // 'full' fits the photo to a near-identical aspect, so 'cover' only shaves the rounding (< 3%).
    const fitOpt = fit === 'squash' ? 'fill' : fit === 'pad' ? 'contain' : 'cover';
    const pixelsP = trimmed
      .resize(out.width, out.height, { fit: fitOpt, background: { r: 0, g: 0, b: 0 }, kernel: 'lanczos3' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const thumbP = thumbSize
      ? fromMid()
          .resize(thumbSize, thumbSize, { fit: 'inside', withoutEnlargement: true })
          .webp({ quality: 78 })
          .toBuffer()
      : Promise.resolve(null);
    const [px, thumbnail] = await Promise.all([pixelsP, thumbP]);
    if (px.info.channels !== 3) throw new Error(`unexpected ${px.info.channels} channels after decoding`);
    return {
      tensor: {
        pixels: new Uint8Array(px.data.buffer, px.data.byteOffset, px.data.byteLength),
        width: px.info.width,
        height: px.info.height,
      },
      width,
      height,
      thumbnail,
      takenAt: await exifTakenAt(meta.exif),
    };
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError(name, describe(e), { cause: e });
  }
}
