/**
 * The engine behind the contract, for real: the default CGD backbone in ONNX Runtime, SQLite, the index,
 * through `dispatch` as both transports call it. Small synthetic photos keep it to a few seconds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import {
  ApiError,
  dispatch,
  unavailableHostMethods,
  type LikenessApi,
  type LikenessEvent,
  type PhotoSummary,
  type ResultOf,
} from '../../src-main/engine/api/contract';
import { createEngineApi, whenIndexReady } from '../../src-main/engine/api/engine-api';
import { makePhoto, tempDir } from '../helpers/images';

async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ApiError, `an ApiError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

test('createEngineApi: index a folder, browse, query, albums, trash, heads — with the real model', async (t) => {
  const dir = tempDir('likeness-engine-api-');
  const photos = path.join(dir, 'Photos');
  for (let i = 1; i <= 9; i++) await makePhoto(path.join(photos, `img${i}.jpg`), i * 11, { size: 160 });
  // A re-encoded copy of img1: the near-duplicate every query should find first.
  await sharp(path.join(photos, 'img1.jpg')).jpeg({ quality: 70 }).toFile(path.join(photos, 'img1 copy.jpg'));
  fs.writeFileSync(path.join(photos, 'broken.jpg'), 'not a jpeg');

  const trashed: string[] = [];
  const logs: string[] = [];
  const engine = await createEngineApi({
    dbDir: path.join(dir, 'library'),
    trash: async (file) => {
      trashed.push(file);
      fs.renameSync(file, path.join(dir, path.basename(file)));
    },
    log: (m) => logs.push(m),
    library: { watch: false },
    fineTune: { maxEpochs: 3 },
  });
  const events: LikenessEvent[] = [];
  engine.events.subscribe((e) => events.push(e));
  // status answers "still loading" after a few seconds; under load the model can take longer than that
  const opened = new Promise<void>((resolve) =>
    engine.events.subscribe(
      (e) => e.event === 'library.changed' && e.data.reason === 'library opened' && resolve(),
    ),
  );
  const impl: LikenessApi = { ...engine.api, ...unavailableHostMethods('browser') };
  const call = <M extends keyof LikenessApi>(method: M, args: unknown = {}) =>
    dispatch(impl, method, args) as Promise<ResultOf<M>>;
  try {
    await opened;
    const first = await call('status');
    assert.equal(first.photos.total, 0);
    assert.ok(first.model, 'the model is loaded');
    assert.ok(first.model.inputSize > 0 && first.model.dim > 0);

    await rejectsWith(call('addFolder', { path: path.join(dir, 'gone') }), 'not_found', /no such folder/);
    const done = new Promise<void>((resolve) =>
      engine.events.subscribe((e) => e.event === 'index.done' && resolve()),
    );
    const { folder } = await call('addFolder', { path: photos });
    assert.equal(folder.photoCount, 11);
    await done;
    // the head the run asked for, learned after it, is what the rest of this test is served with
    await whenIndexReady({ status: () => call('status'), subscribe: engine.events.subscribe });
    const finished = events.find((e) => e.event === 'index.done');
    assert.deepEqual(finished?.data, { done: 11, failed: 1, total: 11, state: 'done' });
    assert.ok(events.some((e) => e.event === 'index.progress' && e.data.total === 11));

    const status = await call('status');
    // One definition of a photo: the file that could not be read is counted apart, everywhere.
    assert.deepEqual(status.photos, { total: 10, indexed: 10, pending: 0, failed: 1, missing: 0 });
    assert.equal(status.indexing, null);
    const [row] = (await call('listFolders')).folders;
    assert.deepEqual([row.photoCount, row.unreadable], [10, 1]);

    // Adding what is already there, or a folder without photos, says so and changes nothing.
    await rejectsWith(call('addFolder', { path: photos }), 'invalid_argument', /already in the library/);
    fs.mkdirSync(path.join(photos, 'sub'));
    await rejectsWith(
      call('addFolder', { path: path.join(photos, 'sub') }),
      'invalid_argument',
      /sub is already in the library, as part of .*Photos/,
    );
    fs.mkdirSync(path.join(dir, 'Empty'));
    fs.writeFileSync(path.join(dir, 'Empty', 'notes.txt'), 'no photos here');
    await rejectsWith(
      call('addFolder', { path: path.join(dir, 'Empty') }),
      'invalid_argument',
      /No photos in this folder/,
    );
    assert.deepEqual(
      (await call('listFolders')).folders.map((f) => f.id),
      [folder.id],
    );

    const failures = await call('listFailures', { offset: 0, limit: 10 });
    assert.equal(failures.total, 1);
    assert.match(failures.items[0].error, /broken\.jpg/);

    const byFolder = await call('listPhotos', { offset: 0, limit: 100, sort: 'folder' });
    assert.equal(byFolder.total, 10, 'indexed photos only (the failed one has no thumbnail)');
    assert.deepEqual(
      byFolder.items.map((p) => p.name),
      ['img1 copy.jpg', ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `img${i}.jpg`)],
    );
    const allIds = await call('listPhotoIds', { offset: 0, limit: 1000, sort: 'folder' });
    assert.deepEqual(allIds, { total: 10, ids: byFolder.items.map((p) => p.id) });
    assert.deepEqual(
      (await call('listPhotoIds', { offset: 8, limit: 5, sort: 'folder' })).ids,
      allIds.ids.slice(8),
    );
    const page2 = await call('listPhotos', { offset: 2, limit: 2, sort: 'folder' });
    assert.deepEqual(
      page2.items.map((p) => p.name),
      ['img2.jpg', 'img3.jpg'],
    );
    const id = (name: string) => byFolder.items.find((p: PhotoSummary) => p.name === name)!.id;

    const details = await call('getPhoto', { photoId: id('img1.jpg') });
    assert.equal(details.path, path.join(fs.realpathSync(photos), 'img1.jpg'));
    assert.equal(details.status, 'indexed');
    assert.equal(details.width, 160);
    await rejectsWith(call('getPhoto', { photoId: 9999 }), 'not_found', /9999/);

    const similar = await call('similar', { photoId: id('img1.jpg'), k: 3 });
    assert.equal(similar.results[0].photo.name, 'img1 copy.jpg');
    assert.ok(similar.results[0].score > 0.9, `copy scores ${similar.results[0].score}`);
    assert.ok(!similar.results.some((r) => r.photo.id === id('img1.jpg')));
    const failedId = failures.items[0].photoId;
    await rejectsWith(
      call('similar', { photoId: failedId }),
      'unavailable',
      /broken\.jpg could not be indexed/,
    );

    const bytes = fs.readFileSync(path.join(photos, 'img3.jpg')).toString('base64');
    const byImage = await call('searchByImage', { bytesBase64: bytes, name: 'dropped.jpg', k: 2 });
    assert.equal(byImage.results[0].photo.name, 'img3.jpg');
    await rejectsWith(
      call('searchByImage', { bytesBase64: Buffer.from('plain text').toString('base64'), name: 'notes.jpg' }),
      'invalid_argument',
      /notes\.jpg/,
    );
    const region = await call('searchByRegion', {
      photoId: id('img2.jpg'),
      box: { x: 0, y: 0, w: 1, h: 1 },
      k: 1,
    });
    assert.equal(region.results[0].photo.name, 'img2.jpg', 'the whole photo as a region finds itself');

    // The JPEG re-encode of img1 is a copy at the default threshold; one of the two (the smaller file at the
    // same pixel size) is the one proposed for removal.
    const dups = await call('duplicates', {});
    const pair = dups.groups.find((g) => g.photos.some((p) => p.photo.name === 'img1.jpg'));
    assert.ok(pair, JSON.stringify(dups.groups));
    assert.equal(pair.kind, 'copies');
    assert.deepEqual(pair.photos.map((p) => p.photo.name).sort(), ['img1 copy.jpg', 'img1.jpg']);
    assert.ok(pair.score >= 0.9 && pair.score <= 1);
    assert.equal(pair.photos.filter((p) => p.copyOf !== null).length, 1);

    const { album } = await call('createAlbum', { name: 'Blue' });
    await rejectsWith(call('createAlbum', { name: 'Blue' }), 'invalid_argument', /already exists/);
    const added = await call('addToAlbum', { albumId: album.id, photoIds: [id('img2.jpg'), id('img3.jpg')] });
    assert.equal(added.album.photoCount, 2);
    await rejectsWith(call('addToAlbum', { albumId: album.id, photoIds: [9999] }), 'not_found', /9999/);
    const inAlbum = await call('listPhotos', { offset: 0, limit: 10, sort: 'added', albumId: album.id });
    assert.equal(inAlbum.total, 2);
    assert.deepEqual((await call('getPhoto', { photoId: id('img2.jpg') })).albums, [
      { id: album.id, name: 'Blue' },
    ]);
    await rejectsWith(call('startFineTune', {}), 'invalid_argument', /at least 2 albums/);

    const thumb = await engine.images.thumbnail(id('img2.jpg'));
    assert.equal(thumb.type, 'image/webp');
    assert.equal((await sharp(thumb.bytes).metadata()).format, 'webp');
    const original = await engine.images.original(id('img2.jpg'));
    assert.ok('path' in original && original.path.endsWith('img2.jpg'));
    await rejectsWith(engine.images.thumbnail(9999), 'not_found', /9999/);

    const gone = await call('trashPhotos', { photoIds: [id('img1 copy.jpg'), 9999] });
    assert.deepEqual(gone.trashed, [id('img1 copy.jpg')]);
    assert.equal(gone.failed[0].photoId, 9999);
    assert.deepEqual(
      trashed.map((f) => path.basename(f)),
      ['img1 copy.jpg'],
    );
    assert.equal((await call('listPhotos', { offset: 0, limit: 100, sort: 'taken' })).total, 9);
    const after = await call('similar', { photoId: id('img1.jpg'), k: 10 });
    assert.ok(!after.results.some((r) => r.photo.name === 'img1 copy.jpg'), 'trashed photos are not results');
    await rejectsWith(call('getPhoto', { photoId: id('img1 copy.jpg') }), 'not_found', /No photo/);
    // Trashed photos leave the library: not counted anywhere, not even as missing.
    assert.deepEqual((await call('status')).photos, {
      total: 9,
      indexed: 9,
      pending: 0,
      failed: 1,
      missing: 0,
    });

    // Fine-tuning runs in its worker on two albums and ends with a verdict; a head it adopts is listed.
    const x = (await call('createAlbum', { name: 'X' })).album.id;
    const y = (await call('createAlbum', { name: 'Y' })).album.id;
    await call('addToAlbum', { albumId: x, photoIds: [1, 2, 3, 4].map((i) => id(`img${i}.jpg`)) });
    await call('addToAlbum', { albumId: y, photoIds: [5, 6, 7, 8].map((i) => id(`img${i}.jpg`)) });
    const verdict = new Promise<LikenessEvent>((resolve) =>
      engine.events.subscribe((e) => e.event === 'finetune.done' && resolve(e)),
    );
    const before = (await call('listHeads')).heads;
    const activeBefore = before.find((h) => h.active)!.version;
    assert.deepEqual(await call('startFineTune', { albumIds: [x, y] }), { started: true });
    assert.deepEqual(await call('startFineTune', { albumIds: [x, y] }), { started: false });
    const started = Date.now();
    const ended = await verdict;
    t.diagnostic(`fine-tune: ${JSON.stringify(ended.data)} in ${Date.now() - started} ms`);
    assert.ok(ended.event === 'finetune.done');
    assert.ok(
      events.some((e) => e.event === 'finetune.progress'),
      'epochs are reported',
    );
    assert.equal(typeof ended.data.before, 'number', ended.data.message);
    assert.ok(ended.data.message.length > 0);

    const { heads } = await call('listHeads');
    assert.equal(heads.filter((h) => h.active).length, 1, 'exactly one head serves');
    const active = heads.find((h) => h.active)!;
    const newHeads = heads.filter((h) => !before.some((b) => b.version === h.version));
    // Either verdict is possible on ten synthetic photos; each must leave the heads as it says.
    if (ended.data.adopted) {
      assert.deepEqual(
        newHeads.map((h) => [h.version, h.kind]),
        [[ended.data.version, 'trained']],
      );
      assert.equal(active.version, ended.data.version, 'the adopted head serves');
      assert.equal(active.heldOutR1, ended.data.after, 'with the recall the verdict reported');
      assert.equal((await call('status')).head?.version, ended.data.version);
    } else {
      // A candidate that is not adopted is kept and listed (the user may still use it), never active.
      assert.deepEqual(
        newHeads.map((h) => [h.version, h.adopted]),
        ended.data.version === null ? [] : [[ended.data.version, false]],
      );
      assert.equal(active.version, activeBefore, 'the head in use is unchanged');
    }
    const used = await call('useHead', { version: heads[0].version });
    assert.equal(used.head.version, heads[0].version);
    await rejectsWith(call('useHead', { version: 99 }), 'not_found', /99/);
    assert.ok(events.some((e) => e.event === 'heads.changed'));
  } finally {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('createEngineApi: a model that cannot load leaves the server up and answers unavailable, saying why', async () => {
  const dir = tempDir('likeness-engine-api-');
  const engine = await createEngineApi({
    dbDir: path.join(dir, 'library'),
    trash: async () => undefined,
    log: () => undefined,
    createEmbedder: async () => {
      throw new Error('model file is corrupt');
    },
  });
  try {
    await rejectsWith(engine.api.listFolders({}), 'unavailable', /model file is corrupt/);
    await rejectsWith(engine.api.status({}), 'unavailable', /model file is corrupt/);
    await rejectsWith(engine.images.thumbnail(1), 'unavailable', /model file is corrupt/);
  } finally {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('createEngineApi: an unusable library folder is refused at once, naming it', async () => {
  const dir = tempDir('likeness-engine-api-');
  const file = path.join(dir, 'a file');
  fs.writeFileSync(file, '');
  await assert.rejects(
    createEngineApi({ dbDir: path.join(file, 'library'), trash: async () => undefined }),
    /Cannot use .*a file.*library as the library folder/,
  );
  fs.rmSync(dir, { recursive: true, force: true });
});
