/**
 * The contract over both transports: the HTTP server (browser mode) and the Electron IPC mapping, driven
 * with a fake ipcMain/ipcRenderer pair, both in front of the same fake API. Also the renderer's client over
 * each, and browser mode's security.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import {
  ApiError,
  ipcChannel,
  methodNames,
  unavailableHostMethods,
  type EventSource,
  type LikenessApi,
  type LikenessEvent,
  type MethodName,
  type Outcome,
  type PhotoSummary,
} from '../../src-main/engine/api/contract';
import type { ImageSource } from '../../src-main/engine/api/media';
import { startServer, type RunningServer } from '../../src-main/server/http-server';
import { forwardEvents, registerIpc, type IpcMainLike } from '../../src-main/electron/ipc';
import { buildBridge } from '../../src-main/electron/bridge';
import { createApi, type ChannelLike, type ClientEnv } from '../../src-renderer/src/lib/api-client';

// --- a fake engine ---------------------------------------------------------------------------------
const photo = (id: number): PhotoSummary => ({
  id,
  name: `p${id}.jpg`,
  width: 640,
  height: 480,
  takenAt: 1_700_000_000_000,
});
const calls: { method: string; args: unknown }[] = [];
const rec = <T>(method: string, args: unknown, result: T): Promise<T> => {
  calls.push({ method, args });
  return Promise.resolve(result);
};
const album = { id: 1, name: 'Cats', photoCount: 2, coverPhotoId: 1 };
const fakeApi: LikenessApi = {
  status: (a) =>
    rec('status', a, {
      photos: { total: 3, indexed: 2, pending: 1, failed: 0, missing: 0 },
      folders: 1,
      model: { name: 'fake', tap: 'mixed5', inputSize: 224, dim: 768 },
      provider: 'cpu',
      head: { version: 1, combo: 'SG', dim: 512 },
      indexing: null,
      index: { ready: true, exact: false },
    }),
  listFolders: (a) =>
    rec('listFolders', a, {
      folders: [{ id: 1, path: '/photos', photoCount: 3, unreadable: 0, available: true }],
    }),
  addFolder: (a) =>
    rec('addFolder', a, { folder: { id: 2, path: a.path, photoCount: 0, unreadable: 0, available: true } }),
  removeFolder: (a) => rec('removeFolder', a, { removed: true }),
  rescanFolder: (a) =>
    rec('rescanFolder', a, {
      folder: { id: a.folderId, path: '/photos', photoCount: 3, unreadable: 0, available: true },
    }),
  listPhotos: (a) =>
    rec('listPhotos', a, {
      total: 3,
      items: [photo(1), photo(2), photo(3)].slice(a.offset, a.offset + a.limit),
    }),
  listPhotoIds: (a) =>
    rec('listPhotoIds', a, { total: 3, ids: [1, 2, 3].slice(a.offset, a.offset + a.limit) }),
  getPhoto: (a) => {
    if (a.photoId > 3) return Promise.reject(new ApiError('not_found', `No photo with id ${a.photoId}`));
    return rec('getPhoto', a, {
      ...photo(a.photoId),
      path: `/photos/p${a.photoId}.jpg`,
      size: 1234,
      folder: { id: 1, path: '/photos' },
      albums: [],
      status: 'indexed' as const,
      error: null,
    });
  },
  findPhoto: (a) =>
    /^\/photos\/p\d\.jpg$/.test(a.path)
      ? fakeApi.getPhoto({ photoId: Number(a.path.slice(9, 10)) })
      : Promise.reject(new ApiError('not_found', `${a.path} is not in the library`)),
  similar: (a) => rec('similar', a, { results: [{ photo: photo(2), score: 0.9 }] }),
  searchByImage: (a) => rec('searchByImage', a, { results: [{ photo: photo(3), score: 0.8 }] }),
  searchByRegion: (a) => rec('searchByRegion', a, { results: [] }),
  duplicates: (a) =>
    rec('duplicates', a, {
      groups: [
        {
          kind: 'copies' as const,
          score: 0.99,
          photos: [
            { photo: photo(1), score: 1, copyOf: null },
            { photo: photo(2), score: 0.99, copyOf: 1 },
          ],
        },
      ],
    }),
  trashPhotos: (a) => rec('trashPhotos', a, { trashed: a.photoIds, failed: [] }),
  listAlbums: (a) => rec('listAlbums', a, { albums: [album] }),
  createAlbum: (a) => rec('createAlbum', a, { album: { ...album, name: a.name } }),
  renameAlbum: (a) => rec('renameAlbum', a, { album: { ...album, name: a.name } }),
  deleteAlbum: (a) => rec('deleteAlbum', a, { deleted: true }),
  addToAlbum: (a) => rec('addToAlbum', a, { album }),
  removeFromAlbum: (a) => rec('removeFromAlbum', a, { album }),
  startIndexing: (a) => rec('startIndexing', a, { started: true }),
  pauseIndexing: (a) => rec('pauseIndexing', a, { paused: true }),
  resumeIndexing: (a) => rec('resumeIndexing', a, { resumed: true }),
  cancelIndexing: (a) => rec('cancelIndexing', a, { cancelled: true }),
  listFailures: (a) => rec('listFailures', a, { total: 0, items: [] }),
  startFineTune: (a) => rec('startFineTune', a, { started: true }),
  cancelFineTune: (a) => rec('cancelFineTune', a, { cancelled: false }),
  listHeads: (a) => rec('listHeads', a, { heads: [] }),
  useHead: (a) => rec('useHead', a, { head: { version: a.version, combo: 'SG', dim: 512 } }),
  ...unavailableHostMethods('browser'),
};

class FakeEvents implements EventSource {
  private listeners = new Set<(e: LikenessEvent) => void>();
  subscribe(listener: (e: LikenessEvent) => void) {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
  emit(e: LikenessEvent) {
    for (const l of this.listeners) l(e);
  }
}
const events = new FakeEvents();

const THUMB = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
let tmp: string;
const imageSource: ImageSource = {
  thumbnail: async (id) => {
    if (id !== 1) throw new ApiError('not_found', `No photo with id ${id}`);
    return { bytes: THUMB, type: 'image/jpeg' };
  },
  original: async (id) => {
    if (id !== 1) throw new ApiError('not_found', `No photo with id ${id}`);
    return { path: path.join(tmp, 'original.jpg'), type: 'image/jpeg' };
  },
};

// --- the two transports ----------------------------------------------------------------------------
let server: RunningServer;
const handlers = new Map<
  string,
  (event: { senderFrame?: { url: string } | null }, ...args: unknown[]) => unknown
>();
const fakeIpcMain: IpcMainLike = {
  handle: (channel, listener) => {
    assert.ok(!handlers.has(channel), `${channel} registered twice`);
    handlers.set(channel, listener);
  },
  removeHandler: (channel) => void handlers.delete(channel),
};
const APP_URL = 'likeness-app://app/index.html';
/** What ipcRenderer.invoke does: structured-clone the arguments, call the handler, clone the answer. */
async function invoke(channel: string, args: unknown, senderUrl = APP_URL): Promise<unknown> {
  const handler = handlers.get(channel);
  if (!handler) throw new Error(`No handler registered for '${channel}'`);
  return structuredClone(await handler({ senderFrame: { url: senderUrl } }, structuredClone(args)));
}
const rendererEvents = new EventEmitter();
const fakeIpcRenderer = {
  invoke: (channel: string, ...args: unknown[]) => invoke(channel, args[0]),
  on: (channel: string, l: (event: unknown, ...args: unknown[]) => void) => rendererEvents.on(channel, l),
  removeListener: (channel: string, l: (event: unknown, ...args: unknown[]) => void) =>
    rendererEvents.removeListener(channel, l),
};
let stopForwarding: () => void;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'likeness-transports-'));
  fs.writeFileSync(path.join(tmp, 'original.jpg'), Buffer.from('ORIGINAL'));
  fs.mkdirSync(path.join(tmp, 'renderer', 'assets'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'renderer', 'index.html'), '<!doctype html><title>Likeness UI</title>');
  fs.writeFileSync(path.join(tmp, 'renderer', 'assets', 'app-1234.js'), 'console.log(1)');
  fs.writeFileSync(path.join(tmp, 'secret.txt'), 'SECRET');
  server = await startServer({
    api: fakeApi,
    events,
    imageSource,
    rendererDir: path.join(tmp, 'renderer'),
    port: 0,
  });
  registerIpc(fakeIpcMain, fakeApi, { isTrustedSender: (url) => url.startsWith('likeness-app://app/') });
  stopForwarding = forwardEvents(events, () => [
    {
      isDestroyed: () => false,
      send: (channel: string, e: LikenessEvent) => rendererEvents.emit(channel, {}, e),
    },
  ]);
});

after(async () => {
  stopForwarding();
  await server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function post(method: string, body: unknown, token: string | null = server.token, raw = false) {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${server.url}api/${method}`, {
    method: 'POST',
    headers,
    body: raw ? (body as string) : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as unknown, headers: response.headers };
}

/** GET with the path sent byte for byte (fetch would resolve `..` segments before sending). */
function rawGet(rawPath: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }>(
    (resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: server.port, path: rawPath, headers, method },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    },
  );
}
const bearer = () => ({ Authorization: `Bearer ${server.token}` });

// --- same methods ----------------------------------------------------------------------------------
test('IPC registers exactly one handler per contract method', () => {
  assert.deepEqual([...handlers.keys()].sort(), methodNames.map(ipcChannel).sort());
});

test('HTTP answers every contract method and 404s anything else', async () => {
  for (const method of methodNames) {
    const { status, body } = await post(method, {});
    assert.notEqual(status, 404, `${method} exists over HTTP (${JSON.stringify(body)})`);
  }
  for (const name of ['dropTables', 'constructor', '__proto__', 'hasOwnProperty', '']) {
    const { status, body } = await post(name, {});
    assert.equal(status, 404, name);
    assert.deepEqual((body as { error: { code: string } }).error.code, 'not_found');
  }
  assert.equal((await rawGet('/api/status/../dropTables', bearer())).status, 404);
});

test('both transports give the same answer to the same valid call', async () => {
  for (const [method, args] of [
    ['status', {}],
    ['similar', { photoId: 2, k: 5, expand: true }],
    ['listPhotos', { offset: 1, limit: 1, sort: 'taken' }],
    ['hostInfo', {}],
  ] as const) {
    calls.length = 0;
    const viaHttp = await post(method, args);
    const viaIpc = (await invoke(ipcChannel(method), args)) as Outcome;
    assert.equal(viaHttp.status, 200);
    assert.deepEqual(viaIpc, { ok: true, result: viaHttp.body }, method);
    if (method !== 'hostInfo')
      assert.deepEqual(
        calls,
        [
          { method, args },
          { method, args },
        ],
        'the implementation saw the parsed arguments',
      );
  }
});

// --- same validation -------------------------------------------------------------------------------
const malformed: [MethodName, unknown, RegExp][] = [
  ['similar', {}, /^similar: photoId: is required/],
  ['similar', { photoId: 'abc' }, /^similar: photoId: must be an integer ≥ 1 \(got "abc"\)$/],
  ['similar', { photoId: 1, k: 0 }, /k: must be an integer in 1\.\.1000 \(got 0\)/],
  ['listPhotos', { offset: 0, limit: 10, sort: 'random' }, /sort: must be one of "taken", "folder", "added"/],
  ['addToAlbum', { albumId: 1, photoIds: [1, -2] }, /photoIds\[1\]: must be an integer ≥ 1 \(got -2\)/],
  [
    'searchByRegion',
    { photoId: 1, box: { x: 0.9, y: 0.9, w: 0.5, h: 0.5 } },
    /box must lie inside the image/,
  ],
  ['status', { extra: 1 }, /extra: unknown key/],
  ['getPhoto', [1], /must be an object \(got an array of 1\)/],
  ['getPhoto', 'photo 1', /must be an object \(got "photo 1"\)/],
  ['trashPhotos', { photoIds: '../../etc/passwd' }, /photoIds: must be an array/],
];

test('malformed arguments are rejected the same way, with a clear message, by both transports', async () => {
  calls.length = 0;
  for (const [method, args, message] of malformed) {
    const viaHttp = await post(method, args);
    const viaIpc = (await invoke(ipcChannel(method), args)) as Outcome;
    assert.equal(viaHttp.status, 400, `${method} ${JSON.stringify(args)} → 400`);
    assert.equal(viaIpc.ok, false);
    assert.deepEqual(
      viaHttp.body,
      { error: (viaIpc as { error: unknown }).error },
      'identical error payloads',
    );
    const error = (viaHttp.body as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'invalid_argument');
    assert.match(error.message, message);
  }
  assert.deepEqual(calls, [], 'the engine is never called with malformed arguments');
});

test('engine errors keep their code over both transports', async () => {
  const viaHttp = await post('getPhoto', { photoId: 99 });
  const viaIpc = await invoke(ipcChannel('getPhoto'), { photoId: 99 });
  assert.equal(viaHttp.status, 404);
  assert.deepEqual(viaHttp.body, { error: { code: 'not_found', message: 'No photo with id 99' } });
  assert.deepEqual(viaIpc, { ok: false, error: { code: 'not_found', message: 'No photo with id 99' } });
  const host = await post('pickFolder', {});
  assert.equal(host.status, 503);
  assert.equal((host.body as { error: { code: string } }).error.code, 'unavailable');
});

test('IPC refuses calls from a page that is not ours', async () => {
  const outcome = (await invoke(ipcChannel('status'), {}, 'https://evil.example/')) as Outcome;
  assert.equal(outcome.ok, false);
  assert.equal((outcome as { error: { code: string } }).error.code, 'unauthorized');
});

test('HTTP: a body that is not JSON, or too large, is refused', async () => {
  const bad = await post('status', '{"oops"', server.token, true);
  assert.equal(bad.status, 400);
  assert.match((bad.body as { error: { message: string } }).error.message, /not valid JSON/);
  const big = await post('createAlbum', { name: 'x'.repeat(2 * 1024 * 1024) });
  assert.equal(big.status, 413);
  const get = await fetch(`${server.url}api/status`, { headers: bearer() });
  assert.equal(get.status, 405);
});

// --- the renderer's client over each transport ------------------------------------------------------
function browserClient(
  search: string,
  storage = new Map<string, string>(),
  fetchImpl: typeof fetch = fetch,
  channel?: () => ChannelLike,
) {
  const replaced: string[] = [];
  const env: ClientEnv = {
    channel,
    location: { protocol: 'http:', host: `127.0.0.1:${server.port}`, search, pathname: '/', hash: '' },
    history: { replaceState: (_d, _u, url) => void replaced.push(String(url)) },
    storage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => void storage.set(k, v) },
    fetch: fetchImpl,
    WebSocket: WebSocket as unknown as ClientEnv['WebSocket'],
  };
  return { api: createApi(env), replaced, storage };
}

test('the client works the same over IPC and HTTP: results, errors, events', async () => {
  const viaHttp = browserClient(`?token=${server.token}`);
  const viaIpc = createApi({
    location: { protocol: 'likeness-app:', host: 'app', search: '', pathname: '/', hash: '' },
    fetch,
    bridge: buildBridge(fakeIpcRenderer),
  });
  assert.equal(viaHttp.api.mode, 'browser');
  assert.equal(viaIpc.mode, 'electron');
  assert.deepEqual(viaHttp.replaced, ['/'], 'the token is removed from the address bar');
  assert.equal(viaHttp.storage.get('likeness.token'), server.token);

  for (const api of [viaHttp.api, viaIpc]) {
    assert.equal((await api.status()).provider, 'cpu');
    assert.deepEqual((await api.similar({ photoId: 1 })).results[0].score, 0.9);
    await assert.rejects(
      api.getPhoto({ photoId: 99 }),
      (e: unknown) => e instanceof ApiError && e.code === 'not_found',
    );
    await assert.rejects(
      api.similar({ photoId: 'x' as unknown as number }),
      (e: unknown) =>
        e instanceof ApiError &&
        e.code === 'invalid_argument' &&
        /photoId: must be an integer/.test(e.message),
    );
  }
  assert.equal(viaHttp.api.mediaUrl('thumb', 5), '/media/thumb/5');
  assert.equal(viaIpc.mediaUrl('full', 5), 'likeness-media://full/5');

  const got: unknown[] = [];
  const received = new Promise<void>((resolve) => {
    let n = 0;
    const done = () => ++n === 2 && resolve();
    const offHttp = viaHttp.api.onEvent(
      'index.progress',
      (d) => (got.push(['http', d.done]), offHttp(), done()),
    );
    const offIpc = viaIpc.onEvent('index.progress', (d) => (got.push(['ipc', d.done]), offIpc(), done()));
  });
  // The WebSocket connects asynchronously: emit until the browser client has heard it.
  const progress = {
    done: 4,
    total: 10,
    rate: 2,
    etaSeconds: 3,
    current: 'a.jpg',
    state: 'running' as const,
  };
  const timer = setInterval(() => events.emit({ event: 'index.progress', data: progress }), 20);
  await received;
  clearInterval(timer);
  assert.deepEqual(
    got.map((g) => (g as unknown[])[1]),
    [4, 4],
  );
  assert.deepEqual(new Set(got.map((g) => (g as unknown[])[0])), new Set(['http', 'ipc']));
});

// --- browser-mode security --------------------------------------------------------------------------
test('the server listens on 127.0.0.1 only and refuses any other host', async () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  await assert.rejects(
    startServer({ api: fakeApi, imageSource, rendererDir: tmp, host: '0.0.0.0' as '127.0.0.1' }),
    /127\.0\.0\.1 only/,
  );
  // DNS rebinding: a request that reached us under another name is refused.
  const rebound = await rawGet('/api/status', { ...bearer(), Host: `evil.example:${server.port}` });
  assert.equal(rebound.status, 421);
});

test('no token or a wrong token is refused with 401', async () => {
  assert.equal((await post('status', {}, null)).status, 401);
  assert.equal((await post('status', {}, 'wrong')).status, 401);
  assert.equal((await post('status', {}, server.token + 'x')).status, 401);
  assert.deepEqual((await post('status', {}, null)).body, {
    error: { code: 'unauthorized', message: 'Missing or wrong token (Authorization: Bearer …)' },
  });
  assert.equal((await rawGet('/')).status, 401);
  assert.equal((await rawGet('/?token=nope')).status, 401);
  assert.equal((await rawGet('/media/thumb/1')).status, 401);
  assert.equal((await rawGet('/session')).status, 401);
  // The API does not accept a cookie, not even one holding the token (no cross-site request can carry a header).
  for (const name of [`likeness_${server.port}`, `likeness_media_${server.port}`])
    assert.equal((await rawGet('/api/status', { Cookie: `${name}=${server.token}` })).status, 401);
});

test('opening the printed address signs the browser in with a media-only HttpOnly SameSite cookie', async () => {
  const page = await rawGet(`/?token=${server.token}`);
  assert.equal(page.status, 200);
  assert.match(page.body.toString(), /Likeness UI/);
  const setCookie = String(page.headers['set-cookie']);
  assert.match(
    setCookie,
    new RegExp(`^likeness_media_${server.port}=[\\w-]{32}; Path=/; HttpOnly; SameSite=Strict$`),
  );
  assert.ok(!setCookie.includes(server.token), 'the cookie never holds the API token');
  const cookie = setCookie.split(';')[0];
  const asset = await rawGet('/assets/app-1234.js', { Cookie: cookie });
  assert.equal(asset.status, 200);
  assert.match(String(asset.headers['cache-control']), /immutable/);
  const thumb = await rawGet('/media/thumb/1', { Cookie: cookie });
  assert.equal(thumb.status, 200);
  assert.deepEqual(thumb.body, THUMB);
  assert.equal(thumb.headers['content-type'], 'image/jpeg');
  const full = await rawGet('/media/full/1', { Cookie: cookie });
  assert.equal(full.body.toString(), 'ORIGINAL');
  // The cookie grants no API call, and /session never hands out the token.
  assert.equal((await rawGet('/api/status', { Cookie: cookie })).status, 401);
  const session = await rawGet('/session', { Cookie: cookie });
  assert.deepEqual(JSON.parse(session.body.toString()), { signedIn: true });

  // A new tab learns the token from an open tab of the same origin (BroadcastChannel), not from the server.
  const tabs = channelPair();
  const open = browserClient(`?token=${server.token}`, new Map(), fetch, tabs.a);
  const tab = browserClient('', new Map(), fetch, tabs.b);
  assert.equal((await tab.api.hostInfo()).mode, 'browser');
  assert.equal(tab.storage.get('likeness.token'), server.token);
  assert.equal((await open.api.hostInfo()).mode, 'browser');
  // With no open tab (another browser), there is no way in.
  const stranger = browserClient('', new Map(), fetch, channelPair().a);
  await assert.rejects(
    stranger.api.status(),
    (e: unknown) => e instanceof ApiError && e.code === 'unauthorized',
  );

  // Revoking (Bearer only) rotates the media secret: the old cookie stops working at once.
  assert.equal((await rawGet('/session', { Cookie: cookie }, 'DELETE')).status, 401);
  const revoked = await rawGet('/session', bearer(), 'DELETE');
  assert.equal(revoked.status, 200);
  const fresh = String(revoked.headers['set-cookie']).split(';')[0];
  assert.notEqual(fresh, cookie);
  assert.equal((await rawGet('/media/thumb/1', { Cookie: cookie })).status, 401);
  assert.equal((await rawGet('/media/thumb/1', { Cookie: fresh })).status, 200);
});

/** Two ends of an in-memory BroadcastChannel (messages go to the other end, asynchronously, as in browsers). */
function channelPair(): { a: () => ChannelLike; b: () => ChannelLike } {
  const ends: ChannelLike[] = [];
  const make = () => {
    const end: ChannelLike = {
      onmessage: null,
      postMessage: (data) => {
        for (const other of ends) if (other !== end) setImmediate(() => other.onmessage?.({ data }));
      },
    };
    ends.push(end);
    return end;
  };
  return { a: make, b: make };
}

test('every response carries the security headers', async () => {
  for (const p of ['/', '/api/status', '/media/thumb/1', '/nope']) {
    const res = await rawGet(p, bearer());
    assert.match(String(res.headers['content-security-policy']), /default-src 'none'; script-src 'self'/, p);
    assert.equal(res.headers['x-content-type-options'], 'nosniff', p);
    assert.equal(res.headers['referrer-policy'], 'no-referrer', p);
  }
});

test('images are served only by numeric id of a library photo: traversal and unknown ids are 404', async () => {
  for (const p of [
    '/media/thumb/../../etc/passwd',
    '/media/thumb/..%2F..%2Fetc%2Fpasswd',
    '/media/full/%2Fetc%2Fpasswd',
    '/media/thumb/abc',
    '/media/thumb/1.5',
    '/media/thumb/-1',
    '/media/thumb/01',
    '/media/thumb/1/extra',
    '/media/thumb/99999999999999999999',
    '/media/thumb/424242',
    '/media/full/424242',
    '/media/secret/1',
    '/media/',
  ]) {
    const res = await rawGet(p, bearer());
    assert.equal(res.status, 404, p);
    assert.ok(!res.body.toString().includes('root:'), p);
  }
  assert.equal((await rawGet('/media/thumb/1', bearer())).status, 200);
});

test('static files never escape the renderer directory', async () => {
  for (const p of [
    '/../secret.txt',
    '/..%2Fsecret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/.hidden',
  ]) {
    const res = await rawGet(p, bearer());
    assert.ok(!res.body.toString().includes('SECRET'), p);
    assert.ok(res.status === 404 || /Likeness UI/.test(res.body.toString()), `${p}: ${res.status}`);
  }
});

test('the event socket needs the token and our own origin', async () => {
  const attempt = (query: string, origin?: string) =>
    new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/events${query}`, origin ? { origin } : {});
      ws.on('open', () => (ws.close(), resolve('open')));
      ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.on('error', () => resolve('error'));
    });
  assert.equal(await attempt(''), '401');
  assert.equal(await attempt('?token=wrong'), '401');
  assert.equal(await attempt(`?token=${server.token}`, 'https://evil.example'), '401');
  assert.equal(await attempt(`?token=${server.token}`, `http://127.0.0.1:${server.port}`), 'open');
});

// --- Electron's protocols (pure functions over web Request/Response, so they run in node) ------------
test('the Electron media protocol serves the same photos and refuses the same bad URLs', async () => {
  const { mediaResponse } = await import('../../src-main/electron/media-protocol');
  const ok = await mediaResponse('likeness-media://thumb/1', imageSource);
  assert.equal(ok.status, 200);
  assert.deepEqual(Buffer.from(await ok.arrayBuffer()), THUMB);
  assert.equal(await (await mediaResponse('likeness-media://full/1', imageSource)).text(), 'ORIGINAL');
  for (const url of [
    'likeness-media://thumb/../../etc/passwd',
    'likeness-media://thumb/%2Fetc%2Fpasswd',
    'likeness-media://thumb/abc',
    'likeness-media://thumb/424242',
    'likeness-media://thumb/1?path=/etc/passwd',
    'likeness-media://secret/1',
    'likeness-media:///etc/passwd',
    'file:///etc/passwd',
  ]) {
    assert.equal((await mediaResponse(url, imageSource)).status, 404, url);
  }
});

test('the Electron app protocol serves the renderer with a strict CSP and stays inside its folder', async () => {
  const { appResponse, isAppUrl } = await import('../../src-main/electron/app-protocol');
  const dir = path.join(tmp, 'renderer');
  const page = await appResponse('likeness-app://app/index.html', dir);
  assert.match(await page.text(), /Likeness UI/);
  assert.match(String(page.headers.get('content-security-policy')), /default-src 'none'; script-src 'self'/);
  assert.match(String(page.headers.get('content-security-policy')), /img-src 'self' likeness-media:/);
  for (const url of [
    'likeness-app://app/../secret.txt',
    'likeness-app://app/%2e%2e/secret.txt',
    'likeness-app://other/index.html',
  ]) {
    const res = await appResponse(url, dir);
    assert.ok(!(await res.text()).includes('SECRET'), url);
  }
  assert.equal(isAppUrl('likeness-app://app/index.html'), true);
  assert.equal(isAppUrl('likeness-app://app.evil.example/'), false);
  assert.equal(isAppUrl('https://example.com/'), false);
});
