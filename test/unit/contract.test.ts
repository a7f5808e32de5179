import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ApiError,
  dispatch,
  hostMethodNames,
  isMethodName,
  methodNames,
  parseArgs,
  s,
  settle,
  SchemaError,
  type LikenessApi,
  unavailableHostMethods,
} from '../../src-main/engine/api/contract';
import { createEngineApi } from '../../src-main/engine/api/engine-api';
import { FakeEmbedder } from '../helpers/fake-embedder';
import { tempDir } from '../helpers/images';

function rejects(method: Parameters<typeof parseArgs>[0], args: unknown, message: RegExp) {
  assert.throws(
    () => parseArgs(method, args),
    (error: unknown) => {
      assert.ok(error instanceof ApiError, 'an ApiError');
      assert.equal(error.code, 'invalid_argument');
      assert.match(error.message, message);
      return true;
    },
  );
}

test('the engine implements exactly the contract’s engine methods, the host exactly the rest', async () => {
  const engine = await createEngineApi({
    dbDir: tempDir(),
    trash: async () => {},
    log: () => {},
    logFile: false,
    createEmbedder: async () => new FakeEmbedder(),
    library: { watch: false },
  });
  try {
    const engineMethods = methodNames.filter((m) => !hostMethodNames.includes(m as never));
    assert.deepEqual(Object.keys(engine.api).sort(), engineMethods.sort());
    assert.deepEqual(Object.keys(unavailableHostMethods('browser')).sort(), [...hostMethodNames].sort());
    for (const m of engineMethods)
      assert.equal(typeof (engine.api as Record<string, unknown>)[m], 'function', m);
  } finally {
    await engine.close();
  }
});

test('the contract knows its methods, host methods included', () => {
  for (const m of [
    'status',
    'similar',
    'searchByImage',
    'searchByRegion',
    'trashPhotos',
    'useHead',
    'listFailures',
  ]) {
    assert.ok(isMethodName(m), m);
  }
  assert.deepEqual([...hostMethodNames].sort(), ['hostInfo', 'pickFolder', 'revealPhoto']);
  // Prototype names are not methods (a request for /api/constructor must be a 404, not a crash).
  for (const m of ['constructor', '__proto__', 'toString', 'hasOwnProperty'])
    assert.equal(isMethodName(m), false, m);
});

test('valid arguments pass and come back with only the declared keys', () => {
  assert.deepEqual(parseArgs('similar', { photoId: 3, k: 10, expand: true }), {
    photoId: 3,
    k: 10,
    expand: true,
  });
  assert.deepEqual(parseArgs('status', undefined), {});
  assert.deepEqual(parseArgs('status', {}), {});
  assert.deepEqual(parseArgs('listPhotos', { offset: 0, limit: 50, sort: 'taken', albumId: 2 }), {
    offset: 0,
    limit: 50,
    sort: 'taken',
    albumId: 2,
  });
  assert.deepEqual(parseArgs('searchByRegion', { photoId: 1, box: { x: 0.25, y: 0, w: 0.5, h: 1 } }), {
    photoId: 1,
    box: { x: 0.25, y: 0, w: 0.5, h: 1 },
  });
  assert.deepEqual(parseArgs('searchByImage', { bytesBase64: 'aGVsbG8=', name: 'a.jpg', k: 5 }), {
    bytesBase64: 'aGVsbG8=',
    name: 'a.jpg',
    k: 5,
  });
});

test('bad arguments are rejected with a message naming the method, the field and the cause', () => {
  rejects('similar', {}, /^similar: photoId: is required \(an integer ≥ 1\)$/);
  rejects('similar', { photoId: '3' }, /^similar: photoId: must be an integer ≥ 1 \(got "3"\)$/);
  rejects('similar', { photoId: 0 }, /photoId: must be an integer ≥ 1 \(got 0\)/);
  rejects('similar', { photoId: 1.5 }, /photoId: must be an integer/);
  rejects('similar', { photoId: 1, k: 5000 }, /k: must be an integer in 1\.\.1000 \(got 5000\)/);
  rejects('similar', { photoId: 1, photoID: 2 }, /photoID: unknown key \(expected photoId, k, /);
  rejects('similar', { photoId: 1, from: 10, to: 5 }, /`from` must not be after `to`/);
  rejects('similar', [1], /^similar: must be an object \(got an array of 1\)$/);
  rejects('similar', null, /must be an object \(got null\)/);
  rejects('status', { verbose: true }, /verbose: unknown key \(expected none\)/);
  rejects(
    'listPhotos',
    { offset: 0, limit: 10, sort: 'size' },
    /sort: must be one of "taken", "folder", "added" \(got "size"\)/,
  );
  rejects('listPhotos', { offset: -1, limit: 10, sort: 'taken' }, /offset: must be an integer ≥ 0/);
  rejects('addToAlbum', { albumId: 1, photoIds: [] }, /photoIds: must be an array of 1\.\.10000/);
  rejects(
    'addToAlbum',
    { albumId: 1, photoIds: [1, 'x'] },
    /photoIds\[1\]: must be an integer ≥ 1 \(got "x"\)/,
  );
  rejects(
    'searchByRegion',
    { photoId: 1, box: { x: 0.8, y: 0, w: 0.5, h: 0.5 } },
    /box: box must lie inside the image/,
  );
  rejects(
    'searchByRegion',
    { photoId: 1, box: { x: 0, y: 0, w: 2, h: 0.5 } },
    /box\.w: must be a number in 0\.01\.\.1/,
  );
  rejects('searchByImage', { bytesBase64: 'not base64!' }, /bytesBase64: must be base64 image bytes/);
  rejects('createAlbum', { name: '' }, /name: must be a string of 1\.\.200 characters/);
  rejects('duplicates', { threshold: Number.NaN }, /threshold: must be a number in 0\.5\.\.1/);
});

test('a __proto__ key cannot smuggle anything into the parsed arguments', () => {
  const raw = JSON.parse('{"photoId": 1, "__proto__": {"admin": true}}') as unknown;
  rejects('similar', raw, /__proto__: unknown key/);
});

test('schema errors carry the path of the offending value', () => {
  const schema = s.object({ a: s.array(s.object({ b: s.nullable(s.int()) })) });
  assert.deepEqual(schema.parse({ a: [{ b: null }, { b: 2 }] }), { a: [{ b: null }, { b: 2 }] });
  assert.throws(
    () => schema.parse({ a: [{ b: null }, { b: 'x' }] }),
    (e: unknown) => e instanceof SchemaError && e.path === 'a[1].b',
  );
});

test('dispatch validates before calling and reports unknown methods as not_found', async () => {
  const calls: unknown[] = [];
  const impl = {
    similar: async (args: unknown) => (calls.push(args), { results: [] }),
  } as unknown as LikenessApi;
  assert.deepEqual(await dispatch(impl, 'similar', { photoId: 7 }), { results: [] });
  assert.deepEqual(calls, [{ photoId: 7 }]);
  await assert.rejects(dispatch(impl, 'similar', { photoId: -7 }), { code: 'invalid_argument' });
  assert.equal(calls.length, 1, 'the implementation is not called with bad arguments');
  await assert.rejects(dispatch(impl, 'dropTables', {}), {
    code: 'not_found',
    message: 'Unknown method "dropTables"',
  });
});

test('settle turns any failure into a structured error', async () => {
  const impl = {
    getPhoto: async () => {
      throw new ApiError('not_found', 'No photo 9');
    },
    listAlbums: async () => {
      throw new Error('disk on fire');
    },
  } as unknown as LikenessApi;
  assert.deepEqual(await settle(impl, 'getPhoto', { photoId: 9 }), {
    ok: false,
    error: { code: 'not_found', message: 'No photo 9' },
  });
  assert.deepEqual(await settle(impl, 'listAlbums', {}), {
    ok: false,
    error: { code: 'internal', message: 'disk on fire' },
  });
  assert.deepEqual(await settle(impl, 'getPhoto', { photoId: 'x' }), {
    ok: false,
    error: { code: 'invalid_argument', message: 'getPhoto: photoId: must be an integer ≥ 1 (got "x")' },
  });
});
