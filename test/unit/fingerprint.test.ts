import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp, { type Sharp } from 'sharp';
import { decodeImage } from '../../src-main/engine/decode/decode-image';
import { copyScore, FINGERPRINT_SIDE, greyFingerprint } from '../../src-main/engine/decode/fingerprint';
import { DEFAULT_COPY_THRESHOLD } from '../../src-main/engine/query/duplicate-defaults';

const SIZE = 448;

/** A textured synthetic photo (smooth gradients + blobs), deterministic per seed. */
async function photo(seed: number, width = 640, height = 480): Promise<Sharp> {
  const px = Buffer.alloc(width * height * 3);
  const blobs = Array.from({ length: 12 }, (_, i) => ({
    x: ((seed * 97 + i * 131) % 100) / 100,
    y: ((seed * 53 + i * 71) % 100) / 100,
    r: 0.05 + ((seed + i * 17) % 10) / 60,
    c: [(seed * 40 + i * 90) % 256, (seed * 70 + i * 30) % 256, (i * 110 + seed * 10) % 256],
  }));
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      let rgb = [(x / width) * 120, (y / height) * 120, 60];
      for (const b of blobs)
        if ((x / width - b.x) ** 2 + (y / height - b.y) ** 2 < b.r * b.r)
          rgb = b.c.map((v, k) => (v + rgb[k]) / 2);
      px[o] = rgb[0];
      px[o + 1] = rgb[1];
      px[o + 2] = rgb[2];
    }
  return sharp(px, { raw: { width, height, channels: 3 } });
}

/** The product's fingerprint of a photo: its model input as decoded (borders trimmed), then fingerprinted. */
async function print(img: Sharp): Promise<Uint8Array> {
  const { tensor } = await decodeImage(await img.png().toBuffer(), { input: { size: SIZE, fit: 'full' } });
  return greyFingerprint(tensor);
}

test('greyFingerprint: a 32×32 box-averaged grey of the centre square of the input; refuses the wrong size', () => {
  const [width, height] = [96, 64];
  const rgb = new Uint8Array(width * height * 3);
  // white outside the centre square (x < 16, x ≥ 80), inside it black then white
  for (let i = 0; i < width * height; i++) {
    const x = i % width;
    rgb.fill(x >= 16 && x < 48 ? 0 : 255, i * 3, i * 3 + 3);
  }
  const f = greyFingerprint({ pixels: rgb, width, height });
  assert.equal(f.length, FINGERPRINT_SIDE * FINGERPRINT_SIDE);
  assert.equal(f[0], 0);
  assert.equal(f[FINGERPRINT_SIDE / 2 - 1], 0);
  assert.equal(f[FINGERPRINT_SIDE / 2], 255);
  assert.equal(f[FINGERPRINT_SIDE * FINGERPRINT_SIDE - 1], 255);
  assert.throws(() => greyFingerprint({ pixels: rgb, width: 65, height }), /expected 65×64×3/);
});

test('copyScore: edits of one photo are copies; another photo is not; a blank frame matches nothing', async () => {
  const src = await photo(3);
  const png = await src.png().toBuffer();
  const original = await print(sharp(png));
  const edits: Record<string, Sharp> = {
    'jpeg q50': sharp(await sharp(png).jpeg({ quality: 50 }).toBuffer()),
    'resize 25%': sharp(png).resize(160, 120),
    'crop 85%': sharp(png).extract({ left: 48, top: 36, width: 544, height: 408 }),
    'brightness/contrast': sharp(png).modulate({ brightness: 1.15 }).linear(1.1, -12.8),
    'white border': sharp(png).extend({ top: 20, bottom: 20, left: 20, right: 20, background: '#ffffff' }),
  };
  for (const [name, img] of Object.entries(edits)) {
    const s = copyScore(original, await print(img));
    assert.ok(s >= DEFAULT_COPY_THRESHOLD, `${name}: ${s}`);
    assert.ok(Math.abs(s - copyScore(await print(img), original)) < 0.02, `${name}: symmetric`);
  }
  assert.equal(copyScore(original, original), 1);
  const other = copyScore(original, await print(await photo(8)));
  assert.ok(other < 0.8, `another photo: ${other}`);
  const blank = new Uint8Array(FINGERPRINT_SIDE * FINGERPRINT_SIDE).fill(128);
  assert.equal(copyScore(original, blank), -1);
});
