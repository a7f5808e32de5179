/**
 * Fault suite, the library on disk: real CLI processes on one library, folders that vanish, a damaged HNSW
 * file and damaged SQLite pages. Each time the processes survive, and nothing is lost or resurrected.
 */
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { projectBatch } from '../../src-main/engine/head/project';
import { Library } from '../../src-main/engine/library';
import { LOCK_FILE } from '../../src-main/engine/store/library-lock';
import { DB_FILE } from '../../src-main/engine/store/open-database';
import { Store } from '../../src-main/engine/store/store';
import { runCli, spawnHelper } from '../helpers/child-process';
import { FakeEmbedder } from '../helpers/fake-embedder';
import { makePhoto, tempDir } from '../helpers/images';
import { internals } from '../helpers/library-internals';

async function photoFolder(dir: string, n: number, seed0 = 0): Promise<string> {
  for (let i = 0; i < n; i++) await makePhoto(path.join(dir, `p${i}.jpg`), seed0 + i);
  return dir;
}

const hitPaths = (stdout: string) =>
  (JSON.parse(stdout.trim().split('\n').at(-1)!) as { results: { photo: { path: string } }[] }).results.map(
    (h) => h.photo.path,
  );

test('two indexers on one library: the second refuses with the pid, readers keep working, a stale lock is taken over', async () => {
  const photos = await photoFolder(tempDir('likeness-faults-photos-'), 40);
  const db = tempDir();
  const gate = path.join(tempDir('likeness-faults-gate-'), 'go');
  const first = spawnHelper('cli-child.ts', ['index', photos, '--db', db, '--json'], { FAKE_GATE: gate });
  await first.line(/^embedding$/m); // the first run is indexing, held at its first model call

  const second = await runCli(['index', photos, '--db', db]);
  assert.equal(second.code, 1, second.stderr);
  assert.match(second.stderr, new RegExp(`open in another Likeness \\(pid ${first.proc.pid}\\)`));
  const status = await runCli(['status', '--db', db, '--json']);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(
    JSON.parse(status.stdout).status.lockedBy,
    first.proc.pid,
    'status ran while the first one indexed',
  );
  fs.writeFileSync(gate, '');

  assert.equal((await first.exited).code, 0, first.stderr());
  assert.equal(
    JSON.parse(
      first
        .stdout()
        .split('\n')
        .find((l) => l.startsWith('{'))!,
    ).photos.indexed,
    40,
  );
  const store = Store.open(db);
  let heads: number;
  try {
    assert.equal(store.db.prepare('SELECT COUNT(*) FROM pooled').pluck().get(), 40);
    assert.equal(store.listJobs().length, 1, 'the second process never started a run');
    heads = store.listHeads().length;
  } finally {
    store.close();
  }
  // As many heads as one indexer alone learns on the same photos (the audit saw twice as many).
  const alone = tempDir();
  assert.equal((await runCli(['index', photos, '--db', alone])).code, 0);
  const baseline = Store.open(alone);
  try {
    assert.equal(heads, baseline.listHeads().length);
  } finally {
    baseline.close();
  }
  assert.ok(!fs.existsSync(path.join(db, LOCK_FILE)), 'the lock is released at exit');

  // A crash leaves the lock behind with a dead pid: the next indexer takes it over.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  fs.writeFileSync(path.join(db, LOCK_FILE), JSON.stringify({ pid: Number(dead.stdout), since: 0 }));
  await makePhoto(path.join(photos, 'new.jpg'), 99);
  const third = await runCli(['index', photos, '--db', db, '--json']);
  assert.equal(third.code, 0, third.stderr);
  assert.equal(JSON.parse(third.stdout.split('\n').find((l) => l.startsWith('{'))!).photos.indexed, 41);
});

test('a vanished folder is reported and left out of results without losing its photos; it comes back', async () => {
  const root = tempDir('likeness-faults-vanish-');
  // The same pictures in both folders: each photo's nearest neighbour is its twin in the other folder.
  const a = await photoFolder(path.join(root, 'drive'), 6);
  const b = await photoFolder(path.join(root, 'home'), 6);
  const db = tempDir();
  assert.equal((await runCli(['index', a, b, '--db', db])).code, 0);
  const query = path.join(b, 'p0.jpg');
  const before = await runCli(['similar', query, '--db', db, '--json']);
  assert.ok(
    hitPaths(before.stdout).some((p) => p.startsWith(a + path.sep)),
    before.stdout,
  );

  fs.renameSync(a, `${a}-unplugged`);
  const status = await runCli(['status', '--db', db]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`warning +${a} cannot be found`));
  const gone = await runCli(['similar', query, '--db', db, '--json']);
  assert.equal(gone.code, 0, gone.stderr);
  assert.ok(hitPaths(gone.stdout).length > 0);
  assert.ok(!hitPaths(gone.stdout).some((p) => p.startsWith(a + path.sep)), gone.stdout);
  // An unmounted drive often leaves its empty mount point behind: still unavailable, still not scanned away.
  fs.mkdirSync(a);
  assert.equal((await runCli(['index', b, '--db', db])).code, 0);
  const emptyMount = await runCli(['status', '--db', db, '--json']);
  assert.deepEqual(
    JSON.parse(emptyMount.stdout).status.unavailableFolders.map((f: { path: string }) => f.path),
    [a],
  );
  const store = Store.open(db);
  try {
    assert.equal(store.counts().indexed, 12, 'nothing was marked missing or deleted');
  } finally {
    store.close();
  }

  fs.rmdirSync(a);
  fs.renameSync(`${a}-unplugged`, a);
  const back = await runCli(['similar', query, '--db', db, '--json']);
  assert.deepEqual(hitPaths(back.stdout), hitPaths(before.stdout));
});

test('a damaged HNSW file is rebuilt on first use, with a warning, and answers as before', async () => {
  const photos = await photoFolder(tempDir('likeness-faults-photos-'), 30);
  const db = tempDir();
  const hnsw = { ANN_EXACT_BELOW: '0' }; // answer from the HNSW graph, not by exact search
  assert.equal((await runCli(['index', photos, '--db', db], hnsw)).code, 0);
  const query = path.join(photos, 'p3.jpg');
  const before = await runCli(['similar', query, '--db', db, '--json'], hnsw);

  const file = path.join(db, 'index.hnsw');
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.alloc(4096, 0xab), 0, 4096, Math.floor(fs.statSync(file).size / 2));
  fs.closeSync(fd);
  const healed = await runCli(['similar', query, '--db', db, '--json'], hnsw);
  assert.equal(healed.code, 0, healed.stderr);
  assert.match(healed.stderr, /search index file was damaged; it is being rebuilt/);
  assert.deepEqual(hitPaths(healed.stdout), hitPaths(before.stdout));
  const after = await runCli(['similar', query, '--db', db, '--json'], hnsw);
  assert.doesNotMatch(after.stderr, /damaged/, 'the rebuilt file was saved');
  assert.deepEqual(hitPaths(after.stdout), hitPaths(before.stdout));
});

/** Zeroes up to `maxPages` overflow pages of the heads table: the first ones hold the oldest, inactive head. */
function zeroHeadPages(dbDir: string, maxPages: number): number {
  const store = Store.open(dbDir);
  const pageSize = store.db.pragma('page_size', { simple: true }) as number;
  assert.ok(store.listHeads().length >= 2, 'an inactive head exists');
  const pages = store.db
    .prepare(
      `SELECT pageno FROM dbstat WHERE name = 'heads' AND pagetype = 'overflow' ORDER BY pageno LIMIT ?`,
    )
    .pluck()
    .all(maxPages) as number[];
  store.close();
  const fd = fs.openSync(path.join(dbDir, DB_FILE), 'r+');
  for (const p of pages) fs.writeSync(fd, Buffer.alloc(pageSize), 0, pageSize, (p - 1) * pageSize);
  fs.closeSync(fd);
  return pages.length * pageSize;
}

test('a damaged database page is reported at open with a recovery path; recover rebuilds it and keeps albums', async () => {
  const photos = await photoFolder(tempDir('likeness-faults-photos-'), 40);
  const db = tempDir();
  assert.equal((await runCli(['index', photos, '--db', db])).code, 0);
  const lib = await Library.open(db, new FakeEmbedder(), { headOps: { projectBatch } });
  const album = lib.createAlbum('Keep me');
  const members = ['p1.jpg', 'p2.jpg', 'p3.jpg'].map((n) => lib.photoByPath(path.join(photos, n))!.id);
  lib.addToAlbum(album.id, members);
  await lib.close();

  const zeroed = zeroHeadPages(db, 16);
  assert.ok(zeroed >= 4096, `zeroed ${zeroed} bytes`);
  const status = await runCli(['status', '--db', db]);
  assert.equal(status.code, 1);
  assert.match(status.stderr, /The library database in .* is damaged \(.*\)\. Your photos are not affected/);
  assert.match(status.stderr, new RegExp(`likeness recover --db ${db}`));
  assert.doesNotMatch(status.stderr, /\n\s+at /, 'no stack trace');

  const recovered = await runCli(['recover', '--db', db]);
  assert.equal(recovered.code, 0, recovered.stderr);
  assert.match(recovered.stderr, /1 albums restored with 3 photos/);
  const store = Store.open(db);
  try {
    assert.equal(store.db.pragma('integrity_check', { simple: true }), 'ok');
    assert.equal(store.counts().indexed, 40);
    const [kept] = store.listAlbums();
    assert.equal(kept.name, 'Keep me');
    const paths = store.albumPhotoIds(kept.id).map((id) => path.basename(store.getPhoto(id)!.path));
    assert.deepEqual(paths.sort(), ['p1.jpg', 'p2.jpg', 'p3.jpg']);
  } finally {
    store.close();
  }
  assert.ok(
    fs.readdirSync(db).some((f) => f.startsWith(`${DB_FILE}.damaged-`)),
    'the damaged file is kept',
  );
});

test('the full integrity check (idle time, own thread) reports damage that appears while the library is open', async () => {
  const photos = await photoFolder(tempDir('likeness-faults-photos-'), 12);
  const db = tempDir();
  const lib = await Library.open(db, new FakeEmbedder(), { headOps: { projectBatch } });
  try {
    await lib.addFolder(photos);
    await lib.startIndexing();
    assert.deepEqual(await lib.checkIntegrity(), [], 'a sound database passes');
    internals(lib).store.db.pragma('wal_checkpoint(TRUNCATE)');
    const warned = new Promise<string>((resolve) => lib.on('warning', resolve));
    zeroVectorPagesOpen(internals(lib).store, db);
    const problems = await lib.checkIntegrity();
    assert.ok(problems.length > 0);
    assert.match(await warned, /is damaged .*likeness recover --db/);
    assert.deepEqual(lib.status().integrity, problems);
  } finally {
    await lib.close().catch(() => undefined);
  }
});

/** Same damage, written under an open connection (what a failing disk does). */
function zeroVectorPagesOpen(store: Store, dbDir: string): void {
  const pageSize = store.db.pragma('page_size', { simple: true }) as number;
  const pages = store.db
    .prepare(`SELECT pageno FROM dbstat WHERE name = 'pooled' ORDER BY pageno LIMIT 4`)
    .pluck()
    .all() as number[];
  const fd = fs.openSync(path.join(dbDir, DB_FILE), 'r+');
  for (const p of pages) fs.writeSync(fd, Buffer.alloc(pageSize), 0, pageSize, (p - 1) * pageSize);
  fs.closeSync(fd);
}
