/**
 * Capture dates end to end: real JPEGs with real EXIF, indexed through the engine API, sorted and filtered
 * by the store. An edited photo (IFD0 DateTime 2024-12-31, DateTimeOriginal 2010-05-05) belongs to 2010.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createEngineApi } from '../../src-main/engine/api/engine-api';
import { decodeImage } from '../../src-main/engine/decode/decode-image';
import type { DecodedPhoto } from '../../src-main/engine/decode/decode-image';
import type { DecodeRequest } from '../../src-main/engine/embed/photo-embedder';
import { FakeEmbedder } from '../helpers/fake-embedder';
import { tempDir } from '../helpers/images';

/** The fake backbone, with the capture date the real decoder reads. */
class DatedFakeEmbedder extends FakeEmbedder {
  override async decode(input: string | Buffer, req: DecodeRequest = {}): Promise<DecodedPhoto> {
    const photo = await super.decode(input, req);
    const real = await decodeImage(input, { input: { size: 4, fit: 'squash' } });
    return { ...photo, takenAt: real.takenAt };
  }
}

async function photo(file: string, shade: number, ifd0: object, exif: object, mtime: Date): Promise<void> {
  await sharp({ create: { width: 24, height: 24, channels: 3, background: { r: shade, g: 90, b: 40 } } })
    .jpeg()
    .withExif({ IFD0: ifd0 as Record<string, string>, IFD2: exif as Record<string, string> })
    .toFile(file);
  fs.utimesSync(file, mtime, mtime);
}

test('an edited photo sorts and filters by its DateTimeOriginal, not its edit date or file time', async () => {
  const dir = tempDir('likeness-exif-');
  const photos = path.join(dir, 'photos');
  fs.mkdirSync(photos);
  const fileTime = new Date(2025, 0, 15);
  await photo(
    path.join(photos, 'edited.jpg'),
    200,
    { DateTime: '2024:12:31 18:00:00' },
    { DateTimeOriginal: '2010:05:05 10:00:00' },
    fileTime,
  );
  await photo(path.join(photos, 'later.jpg'), 120, {}, { DateTimeOriginal: '2015:01:01 12:00:00' }, fileTime);
  // No capture date at all: its file time (2005) is what it sorts by.
  await photo(
    path.join(photos, 'undated.jpg'),
    40,
    { DateTime: '2024:12:31 18:00:00' },
    {},
    new Date(2005, 0, 1),
  );

  const engine = await createEngineApi({
    dbDir: path.join(dir, 'library'),
    trash: async () => {},
    log: () => {},
    createEmbedder: async () => new DatedFakeEmbedder(),
    library: { watch: false },
  });
  try {
    const done = new Promise<void>((resolve) =>
      engine.events.subscribe((e) => e.event === 'index.done' && resolve()),
    );
    await engine.api.addFolder({ path: photos });
    await done;

    const page = await engine.api.listPhotos({ offset: 0, limit: 10, sort: 'taken' });
    assert.deepEqual(
      page.items.map((p) => p.name),
      ['later.jpg', 'edited.jpg', 'undated.jpg'],
    );
    const edited = page.items.find((p) => p.name === 'edited.jpg')!;
    assert.equal(edited.takenAt, new Date(2010, 4, 5, 10, 0, 0).getTime());

    const later = page.items.find((p) => p.name === 'later.jpg')!;
    const day = { from: new Date(2010, 4, 5).getTime(), to: new Date(2010, 4, 5, 23, 59, 59).getTime() };
    const inMay2010 = await engine.api.similar({ photoId: later.id, k: 10, ...day });
    assert.deepEqual(
      inMay2010.results.map((r) => r.photo.name),
      ['edited.jpg'],
    );
    const in2024 = await engine.api.similar({
      photoId: later.id,
      k: 10,
      from: new Date(2024, 0, 1).getTime(),
      to: new Date(2025, 11, 31).getTime(),
    });
    assert.deepEqual(in2024.results, [], 'neither the edit date nor the file time counts when EXIF has one');
  } finally {
    await engine.close();
  }
});
