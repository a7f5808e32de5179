/**
 * The duplicates benchmark's photo set: dataset photos made photo-sized (upscaled ×4) and, beside each,
 * planted copies of the edits people make to photos. Written to a temporary folder outside the
 * repository (the evaluation pixels are never copied into it). Same-scene shots of a Holidays group
 * stay in the set: they are near-duplicates, the hard non-copies.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import type { Dataset } from './datasets';
import { imagePath } from './datasets';

export const COPY_KINDS = [
  'jpeg-q50',
  'resize-50',
  'resize-25',
  'crop-85',
  'bright-contrast-png',
  'border-40',
] as const;
export type CopyKind = (typeof COPY_KINDS)[number];

export interface PlantedPhoto {
  file: string;
  /** index of the dataset photo it shows */
  source: number;
  /** null for the photo-sized original */
  kind: CopyKind | null;
  /** Holidays scene group (the file name's first four digits), or the class label */
  scene: string;
}

const UPSCALE = 4;

function plant(img: Sharp, kind: CopyKind, w: number, h: number): Sharp {
  switch (kind) {
    case 'jpeg-q50':
      return img.jpeg({ quality: 50 });
    case 'resize-50':
      return img.resize(Math.round(w / 2), Math.round(h / 2)).jpeg({ quality: 90 });
    case 'resize-25':
      return img.resize(Math.round(w / 4), Math.round(h / 4)).jpeg({ quality: 90 });
    case 'crop-85': {
      const cw = Math.round(w * 0.85);
      const ch = Math.round(h * 0.85);
      return img
        .extract({ left: Math.round((w - cw) / 2), top: Math.round((h - ch) / 2), width: cw, height: ch })
        .jpeg({ quality: 90 });
    }
    case 'bright-contrast-png':
      // +15% brightness, then +10% contrast around mid-grey
      return img
        .modulate({ brightness: 1.15 })
        .linear(1.1, -0.1 * 128)
        .png();
    case 'border-40':
      return img
        .extend({ top: 40, bottom: 40, left: 40, right: 40, background: '#ffffff' })
        .jpeg({ quality: 90 });
  }
}

/** Writes originals + copies of the first `count` photos of `ds`; returns the folder and its photos. */
export async function plantCopies(
  ds: Dataset,
  count: number,
  kinds: readonly CopyKind[] = COPY_KINDS,
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'likeness-dups-')),
): Promise<{ dir: string; photos: PlantedPhoto[] }> {
  const photos: PlantedPhoto[] = [];
  const n = Math.min(count, ds.files.length);
  for (let i = 0; i < n; i++) {
    const base = path.parse(ds.files[i]).name;
    const scene = ds.kind === 'holidays' ? base.slice(0, 4) : ds.labels![i];
    const orig = path.join(dir, `${base}.jpg`);
    const files = kinds.map((kind) =>
      path.join(dir, `${base}~${kind}.${kind.endsWith('png') ? 'png' : 'jpg'}`),
    );
    // A kept folder (--dir) is reused: planting is deterministic.
    if ([orig, ...files].every((f) => fs.existsSync(f))) {
      photos.push({ file: orig, source: i, kind: null, scene });
      kinds.forEach((kind, k) => photos.push({ file: files[k], source: i, kind, scene }));
      continue;
    }
    const meta = await sharp(imagePath(ds, i)).metadata();
    const w = meta.width! * UPSCALE;
    const h = meta.height! * UPSCALE;
    const big = await sharp(imagePath(ds, i))
      .rotate()
      .resize(w, h, { kernel: 'lanczos3' })
      .jpeg({ quality: 92 })
      .toBuffer();
    fs.writeFileSync(orig, big);
    photos.push({ file: orig, source: i, kind: null, scene });
    for (const [k, kind] of kinds.entries()) {
      await plant(sharp(big), kind, w, h).toFile(files[k]);
      photos.push({ file: files[k], source: i, kind, scene });
    }
  }
  return { dir, photos };
}
