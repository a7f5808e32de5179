import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp, { type Sharp } from 'sharp';
import { DecodeError, decodeImage } from '../../src-main/engine/decode/decode-image';
import { exifDateToMs, exifTakenAt } from '../../src-main/engine/decode/exif-date';

const input = { size: 64, fit: 'squash' as const };

/** Left half red, right half blue: orientation and crops are visible in the pixels. */
async function halves(width: number, height: number): Promise<Sharp> {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) px[(y * width + x) * 3 + (x < width / 2 ? 0 : 2)] = 255;
  return sharp(px, { raw: { width, height, channels: 3 } });
}

test('decodes to size×size×3 uint8 and a WebP thumbnail', async () => {
  const png = await (await halves(200, 100)).png().toBuffer();
  const d = await decodeImage(png, { input, thumbnailSize: 32 });
  assert.equal(d.tensor.pixels.length, 64 * 64 * 3);
  assert.equal(d.width, 200);
  assert.equal(d.height, 100);
  const meta = await sharp(d.thumbnail!).metadata();
  assert.equal(meta.format, 'webp');
  assert.equal(Math.max(meta.width!, meta.height!), 32);
  // left pixel red, right pixel blue
  assert.ok(d.tensor.pixels[0] > 200 && d.tensor.pixels[2] < 50);
  assert.ok(d.tensor.pixels[63 * 3 + 2] > 200 && d.tensor.pixels[63 * 3] < 50);
});

test('EXIF orientation is applied (90° rotation swaps width and height)', async () => {
  const jpg = await (await halves(120, 60)).jpeg().withMetadata({ orientation: 6 }).toBuffer();
  const d = await decodeImage(jpg, { input });
  assert.equal(d.width, 60);
  assert.equal(d.height, 120);
  // After rotating 90° clockwise, the red left half is on top.
  assert.ok(d.tensor.pixels[0] > 200 && d.tensor.pixels[2] < 60, 'top is red');
  const bottom = (63 * 64 + 32) * 3;
  assert.ok(d.tensor.pixels[bottom + 2] > 200 && d.tensor.pixels[bottom] < 60, 'bottom is blue');
});

test('a region decodes only that part of the photo', async () => {
  const png = await (await halves(200, 100)).png().toBuffer();
  const d = await decodeImage(png, { input, region: { x: 0.6, y: 0, w: 0.4, h: 1 } });
  for (let i = 0; i < d.tensor.pixels.length; i += 3)
    assert.ok(d.tensor.pixels[i + 2] > 200 && d.tensor.pixels[i] < 50, 'all blue');
});

test('bad input is a DecodeError naming the file and the cause, from bytes and from a path', async () => {
  const cases: [Buffer, RegExp][] = [
    [Buffer.alloc(0), /empty/],
    [Buffer.from('hello, not an image'), /not an image|unsupported/],
    [(await (await halves(300, 300)).jpeg().toBuffer()).subarray(0, 400), /corrupt|truncated|premature/i],
  ];
  for (const [bytes, reason] of cases) {
    await assert.rejects(decodeImage(bytes, { input }, 'holiday.jpg'), (e: Error) => {
      assert.ok(e instanceof DecodeError);
      assert.match(e.message, /holiday\.jpg/);
      assert.match(e.message, reason);
      return true;
    });
  }
  await assert.rejects(
    decodeImage('/nonexistent/photo.jpg', { input }),
    /photo\.jpg: the file no longer exists/,
  );
  // the same reasons for files opened by path (libvips reads them; the bytes are read only to say why)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'likeness-decode-'));
  for (const [i, [bytes, reason]] of cases.entries()) {
    const file = path.join(dir, `bad-${i}.jpg`);
    fs.writeFileSync(file, bytes);
    await assert.rejects(decodeImage(file, { input }), (e: Error) => {
      assert.ok(e instanceof DecodeError);
      assert.match(e.message, new RegExp(`bad-${i}\\.jpg`));
      assert.match(e.message, reason);
      return true;
    });
  }
  const good = path.join(dir, 'good.jpg');
  fs.writeFileSync(good, await (await halves(120, 60)).jpeg().withMetadata({ orientation: 6 }).toBuffer());
  const byPath = await decodeImage(good, { input, thumbnailSize: 32 });
  const byBytes = await decodeImage(fs.readFileSync(good), { input, thumbnailSize: 32 });
  assert.deepEqual([byPath.width, byPath.height], [60, 120], 'oriented as from bytes');
  assert.deepEqual(byPath.tensor.pixels, byBytes.tensor.pixels);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A real JPEG carrying real EXIF tags (sharp writes them; exifr reads them back). */
async function jpegWithExif(ifd0: Record<string, string>, exif: Record<string, string>): Promise<Buffer> {
  return sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } })
    .jpeg()
    .withExif({ IFD0: ifd0, IFD2: exif })
    .toBuffer();
}

test('taken date: DateTimeOriginal wins over the later edit date (IFD0 DateTime), read as local time', async () => {
  const edited = await jpegWithExif(
    { DateTime: '2024:12:31 23:59:00' },
    { DateTimeOriginal: '2010:05:05 10:00:00' },
  );
  const d = await decodeImage(edited, { input });
  assert.equal(d.takenAt, new Date(2010, 4, 5, 10, 0, 0).getTime());
});

test('taken date: the EXIF offset applies when present; CreateDate is the fallback', async () => {
  const withOffset = await jpegWithExif(
    {},
    { DateTimeOriginal: '2010:05:05 10:00:00', OffsetTimeOriginal: '+02:00' },
  );
  assert.equal((await decodeImage(withOffset, { input })).takenAt, Date.UTC(2010, 4, 5, 8, 0, 0));
  const digitized = await jpegWithExif({}, { DateTimeDigitized: '2012:01:02 03:04:05' });
  assert.equal((await decodeImage(digitized, { input })).takenAt, new Date(2012, 0, 2, 3, 4, 5).getTime());
  // Only an edit date, or an unset camera clock: no capture time (the store falls back to the file's).
  const editOnly = await jpegWithExif({ DateTime: '2024:12:31 23:59:00' }, {});
  assert.equal((await decodeImage(editOnly, { input })).takenAt, null);
  const unset = await jpegWithExif({}, { DateTimeOriginal: '0000:00:00 00:00:00' });
  assert.equal((await decodeImage(unset, { input })).takenAt, null);
});

test('exif dates: offsets, local time, rubbish', async () => {
  assert.equal(exifDateToMs('2021:07:04 12:30:00', '-05:30'), Date.UTC(2021, 6, 4, 18, 0, 0));
  assert.equal(exifDateToMs('2021:07:04 12:30:00', 'Z'), Date.UTC(2021, 6, 4, 12, 30, 0));
  assert.equal(exifDateToMs('2021:07:04 12:30:00'), new Date(2021, 6, 4, 12, 30, 0).getTime());
  assert.equal(exifDateToMs('no date'), null);
  assert.equal(exifDateToMs(undefined), null);
  assert.equal(await exifTakenAt(undefined), null);
  assert.equal(await exifTakenAt(Buffer.from('Exif\0\0garbage that is not TIFF')), null);
});

test("'full' keeps the whole photo at its aspect, about size² pixels, sides in multiples of 32", async () => {
  const png = await (await halves(400, 300)).png().toBuffer();
  const d = await decodeImage(png, { input: { size: 448, fit: 'full' } });
  assert.deepEqual([d.tensor.width, d.tensor.height], [512, 384]);
  assert.equal(d.tensor.pixels.length, 512 * 384 * 3);
  // both halves are there: red at the far left, blue at the far right
  const row = 100 * 512 * 3;
  assert.ok(d.tensor.pixels[row] > 200 && d.tensor.pixels[row + 2] < 50);
  assert.ok(d.tensor.pixels[row + 511 * 3 + 2] > 200 && d.tensor.pixels[row + 511 * 3] < 50);
  // a panorama is held to 2:1
  const pano = await decodeImage(await (await halves(1000, 200)).png().toBuffer(), {
    input: { size: 448, fit: 'full' },
  });
  assert.deepEqual([pano.tensor.width, pano.tensor.height], [640, 320]);
});

test('a uniform white or black border is left out of the model input, not out of the thumbnail', async () => {
  const inner = await (await halves(300, 200)).png().toBuffer();
  const plain = await decodeImage(inner, { input: { size: 448, fit: 'full' } });
  for (const background of ['#ffffff', '#000000']) {
    const framed = await sharp(inner)
      .extend({ top: 40, bottom: 40, left: 60, right: 60, background })
      .jpeg({ quality: 85 })
      .toBuffer();
    const d = await decodeImage(framed, { input: { size: 448, fit: 'full' }, thumbnailSize: 64 });
    assert.deepEqual([d.tensor.width, d.tensor.height], [plain.tensor.width, plain.tensor.height]);
    let diff = 0;
    for (let i = 0; i < d.tensor.pixels.length; i++)
      diff += Math.abs(d.tensor.pixels[i] - plain.tensor.pixels[i]);
    assert.ok(
      diff / d.tensor.pixels.length < 6,
      `${background} border trimmed (mean diff ${diff / d.tensor.pixels.length})`,
    );
    const thumb = await sharp(d.thumbnail!).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([thumb.info.width, thumb.info.height], [64, 43], 'the thumbnail keeps the border');
  }
  // a coloured frame is content, and a mostly white page is not cut down to its few marks
  const blueFrame = await sharp(inner)
    .extend({ top: 40, bottom: 40, left: 60, right: 60, background: '#2050c0' })
    .png()
    .toBuffer();
  const b = await decodeImage(blueFrame, { input: { size: 448, fit: 'full' } });
  assert.ok(b.tensor.pixels[2] > 150 && b.tensor.pixels[0] < 80, 'the blue frame stays');
  const page = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#ffffff' } })
    .composite([{ input: await (await halves(40, 30)).png().toBuffer(), left: 180, top: 135 }])
    .png()
    .toBuffer();
  const p = await decodeImage(page, { input: { size: 448, fit: 'full' } });
  assert.ok(p.tensor.pixels[0] > 240, 'the page keeps its white');
});
