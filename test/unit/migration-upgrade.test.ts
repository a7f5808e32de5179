/**
 * Upgrading: a library written by the first schema, with data in every table, opened by the current
 * code keeps every row and ends with exactly the schema of a fresh library. Generic over MIGRATIONS: a
 * new migration is checked by this test without changing it (the fixture is written in schema 1's SQL).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import test from 'node:test';
import Database from 'better-sqlite3';
import { identityHead } from '../../src-main/engine/head/whitening';
import { float16ToBlob, float32ToBlob } from '../../src-main/engine/store/float16';
import { encodeHead } from '../../src-main/engine/head/head-codec';
import { MIGRATIONS } from '../../src-main/engine/store/migrations/index';
import { DB_FILE, migrate, openDatabase } from '../../src-main/engine/store/open-database';
import { Store } from '../../src-main/engine/store/store';
import { tempDir } from '../helpers/images';

const vec = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed + i));

/** A library as the first release left it: one folder, three photos in three states, a head, an album, a job. */
function writeVersion1Library(dir: string): void {
  const db = new Database(path.join(dir, DB_FILE));
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  assert.equal(migrate(db, 1), 1);
  const pooled = (seed: number) => [
    float16ToBlob(vec(8, seed)),
    float16ToBlob(vec(8, seed + 1)),
    float16ToBlob(vec(8, seed + 2)),
  ];
  db.exec(`INSERT INTO folders (id, path, added_at) VALUES (1, '/photos', 1000)`);
  const photo = db.prepare(
    `INSERT INTO photos (id, folder_id, path, size, mtime, hash, width, height, taken_at, status, error, added_at)
     VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  photo.run(1, '/photos/a.jpg', 100, 5000, 'h1', 640, 480, 1_600_000_000_000, 'indexed', null, 2000);
  photo.run(2, '/photos/b.jpg', 200, 6000, 'h2', null, null, null, 'failed', 'Cannot decode b.jpg', 2001);
  photo.run(3, '/photos/c.jpg', 300, 7000, null, null, null, null, 'pending', null, 2002);
  db.prepare(`INSERT INTO pooled (photo_id, model_id, s, m, g) VALUES (1, 'model@1', ?, ?, ?)`).run(
    ...pooled(1),
  );
  db.prepare(
    `INSERT INTO heads (version, created_at, model_id, combo, kind, trained_on, weights, metrics, active)
     VALUES (1, 3000, 'model@1', 'SG', 'identity', 0, ?, '{"note":"v1"}', 1)`,
  ).run(encodeHead(identityHead(8, 'SG', 8)));
  db.prepare(`INSERT INTO embeddings (photo_id, head_version, vector) VALUES (1, 1, ?)`).run(
    float32ToBlob(vec(8, 7)),
  );
  db.exec(`INSERT INTO albums (id, name, created_at) VALUES (1, 'Beach', 4000)`);
  db.exec(`INSERT INTO album_photos (album_id, photo_id, added_at) VALUES (1, 1, 4001), (1, 2, 4002)`);
  db.exec(
    `INSERT INTO jobs (id, kind, status, started_at, finished_at, progress, error)
     VALUES (1, 'index', 'done', 5000, 5100, '{"done":1}', NULL)`,
  );
  db.close();
}

/** Everything that makes up a schema: tables, their columns and constraints, indexes, triggers, views. */
function schemaOf(db: Database.Database): unknown {
  const objects = db
    .prepare(
      `SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`,
    )
    .all() as { type: string; name: string; sql: string | null }[];
  return objects.map((o) => ({
    ...o,
    // ALTER TABLE and CREATE TABLE may word the same table differently: compare its columns too
    sql: o.sql?.replace(/\s+/g, ' '),
    columns: o.type === 'table' ? db.prepare(`PRAGMA table_xinfo(${JSON.stringify(o.name)})`).all() : null,
    foreignKeys:
      o.type === 'table' ? db.prepare(`PRAGMA foreign_key_list(${JSON.stringify(o.name)})`).all() : null,
  }));
}

test(`a schema-1 library opened by the current code (schema ${MIGRATIONS.length}) keeps all its data`, () => {
  const dir = tempDir();
  writeVersion1Library(dir);
  const store = Store.open(dir);
  try {
    assert.equal(store.db.pragma('user_version', { simple: true }), MIGRATIONS.length);
    assert.equal(store.db.pragma('integrity_check', { simple: true }), 'ok');
    assert.deepEqual(store.db.pragma('foreign_key_check'), []);

    assert.deepEqual(store.listFolders(), [{ id: 1, path: '/photos', addedAt: 1000 }]);
    const a = store.getPhoto(1)!;
    assert.equal(a.path, '/photos/a.jpg');
    assert.equal(a.status, 'indexed');
    assert.deepEqual(
      [a.size, a.mtime, a.hash, a.width, a.height, a.takenAt],
      [100, 5000, 'h1', 640, 480, 1_600_000_000_000],
    );
    assert.equal(store.getPhoto(2)!.status, 'failed');
    assert.equal(store.getPhoto(2)!.error, 'Cannot decode b.jpg');
    assert.equal(store.getPhoto(3)!.status, 'pending');
    // total counts photos (indexed or waiting), not the file that could not be read
    assert.deepEqual(store.counts(), { total: 2, indexed: 1, pending: 1, failed: 1, missing: 0 });

    const p = store.getPooled(1)!;
    assert.equal(p.modelId, 'model@1');
    for (const [i, key] of (['S', 'M', 'G'] as const).entries())
      for (let j = 0; j < 8; j++) assert.ok(Math.abs(p.pooled[key][j] - Math.sin(1 + i + j)) < 1e-3);
    assert.deepEqual(Array.from(store.getEmbedding(1, 1)!), Array.from(vec(8, 7)));

    const head = store.activeHead('model@1')!;
    assert.equal(head.version, 1);
    assert.deepEqual(head.metrics, { note: 'v1' });
    assert.deepEqual(head.weights, identityHead(8, 'SG', 8));

    assert.deepEqual(
      store.listAlbums().map((x) => [x.name, x.count]),
      [['Beach', 2]],
    );
    assert.deepEqual(store.albumPhotoIds(1), [1, 2]);
    assert.deepEqual(
      store.listJobs().map((j) => [j.kind, j.status, j.progress]),
      [['index', 'done', { done: 1 }]],
    );
  } finally {
    store.close();
  }
});

test('an upgraded library has exactly the schema of a fresh one', () => {
  const upgraded = tempDir();
  writeVersion1Library(upgraded);
  const a = openDatabase(upgraded);
  const b = openDatabase(tempDir());
  try {
    assert.deepEqual(schemaOf(a), schemaOf(b));
    assert.ok((schemaOf(b) as unknown[]).length >= 8 + 5, 'tables and indexes were compared');
  } finally {
    a.close();
    b.close();
  }
});

test('migrating stops at the target version and resumes from there', () => {
  const db = new Database(':memory:');
  assert.equal(migrate(db, 0), 0);
  assert.equal(migrate(db, 1), 1);
  assert.equal(db.prepare(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'photos'`).pluck().get(), 1);
  assert.equal(migrate(db), MIGRATIONS.length);
  db.close();
});
