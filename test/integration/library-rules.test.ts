/** Rules the Library owns (not its adapters): album names, and trashing a photo without losing anything else. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { InvalidInputError, NotFoundError } from '../../src-main/engine/errors';
import { projectBatch } from '../../src-main/engine/head/project';
import { Library } from '../../src-main/engine/library';
import { FakeEmbedder } from '../helpers/fake-embedder';
import { makePhoto, tempDir } from '../helpers/images';

const headOps = { projectBatch };

test('album names are trimmed, needed and unique, whoever asks', async () => {
  const lib = await Library.open(tempDir(), new FakeEmbedder(), { headOps });
  try {
    const beach = lib.createAlbum('  Beach  ');
    assert.equal(beach.name, 'Beach');
    assert.throws(
      () => lib.createAlbum('Beach'),
      (e) => e instanceof InvalidInputError && /already exists/.test(e.message),
    );
    assert.throws(
      () => lib.createAlbum('   '),
      (e) => e instanceof InvalidInputError && /needs a name/.test(e.message),
    );
    const hills = lib.createAlbum('Hills');
    assert.throws(() => lib.renameAlbum(hills.id, 'Beach'), InvalidInputError);
    assert.equal(lib.renameAlbum(beach.id, ' Beach '), true, 'its own name is not a clash');
    assert.throws(() => lib.renameAlbum(999, 'Sea'), NotFoundError);
    assert.deepEqual(
      lib.listAlbums().map((a) => a.name),
      ['Beach', 'Hills'],
    );
  } finally {
    await lib.close();
  }
});

test('a trashed photo leaves every search and view, and nothing else does', async () => {
  const root = tempDir();
  for (let i = 0; i < 5; i++) await makePhoto(path.join(root, `p${i}.jpg`), i);
  const lib = await Library.open(tempDir(), new FakeEmbedder(), { headOps });
  try {
    await lib.addFolder(root);
    await lib.startIndexing();
    const [a, b] = [0, 1].map((i) => lib.photoByPath(path.join(root, `p${i}.jpg`))!);
    const moved: string[] = [];
    const result = await lib.trashPhotos([a.id, b.id, 999], async (file) => {
      if (file === b.path) throw new Error('permission denied');
      moved.push(file);
    });
    assert.deepEqual(result.trashed, [a.id]);
    assert.deepEqual(result.failed, [
      { photoId: b.id, error: `${b.path}: permission denied` },
      { photoId: 999, error: 'No photo with id 999' },
    ]);
    assert.deepEqual(moved, [a.path]);
    assert.equal(lib.getPhoto(a.id), undefined, 'a trashed photo is forgotten');
    assert.equal(fs.existsSync(lib.thumbnailPath(a.id)), false, 'its thumbnail is gone');
    assert.ok(fs.existsSync(lib.thumbnailPath(b.id)), 'the one that failed keeps everything');
    assert.ok(!lib.similar(b.id, { k: 10 }).some((h) => h.photo.id === a.id), 'not a result any more');
    assert.equal(lib.status().photos.indexed, 4);
    // trashing it again is refused: it is no longer in the library
    assert.deepEqual((await lib.trashPhotos([a.id], async () => {})).trashed, []);
  } finally {
    await lib.close();
  }
});
