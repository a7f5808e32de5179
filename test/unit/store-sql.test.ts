/** The SQL layer's costs: statements prepared once per Store, one query for many photos, keyset pages. */
import assert from 'node:assert/strict';
import test from 'node:test';
import type Database from 'better-sqlite3';
import { identityHead } from '../../src-main/engine/head/whitening';
import { keysetPages } from '../../src-main/engine/store/keyset';
import { StatementCache } from '../../src-main/engine/store/statement-cache';
import { Store } from '../../src-main/engine/store/store';
import { tempDir } from '../helpers/images';

const vec = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.cos(seed + i));

/** Counts what reaches SQLite: statements prepared and statements run. */
function countSql(db: Database.Database): { prepared: number; executed: number } {
  const counts = { prepared: 0, executed: 0 };
  const prepare = db.prepare.bind(db);
  db.prepare = ((text: string) => {
    counts.prepared++;
    const stmt = prepare(text);
    for (const m of ['run', 'get', 'all', 'iterate'] as const) {
      const f = (stmt[m] as (...a: unknown[]) => unknown).bind(stmt);
      (stmt as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
        counts.executed++;
        return f(...a);
      };
    }
    return stmt;
  }) as typeof db.prepare;
  return counts;
}

function libraryOf(n: number): { store: Store; version: number } {
  const store = Store.open(tempDir());
  const folder = store.addFolder('/p');
  const version = store.insertHead({
    modelId: 'm',
    kind: 'identity',
    trainedOn: 0,
    weights: identityHead(4),
  });
  store.activateHead(version);
  for (let i = 1; i <= n; i++)
    store.insertPhoto({ folderId: folder.id, path: `/p/${i}.jpg`, size: i, mtime: i, hash: `h${i}` });
  return { store, version };
}

test('indexing many photos prepares each statement once per Store', () => {
  const { store, version } = libraryOf(50);
  const counts = countSql(store.db);
  for (let id = 1; id <= 50; id++) {
    store.commitIndexed({
      photoId: id,
      pooled: { S: vec(4, id), M: vec(4, id + 1), G: vec(4, id + 2) },
      modelId: 'm',
      embedding: vec(4, id),
      headVersion: version,
      width: 10,
      height: 10,
      takenAt: null,
    });
  }
  // per photo: the status check (a photo trashed meanwhile is not committed) and three writes
  assert.ok(counts.prepared <= 4, `${counts.prepared} statements prepared for 50 photos`);
  assert.equal(counts.executed, 200);
  assert.equal(store.counts().indexed, 50);
  store.close();
});

test('photosByIds is one query, whatever the number of ids, and skips unknown ones', () => {
  const { store } = libraryOf(300);
  const counts = countSql(store.db);
  const ids = [...Array.from({ length: 250 }, (_, i) => 300 - i), 9999];
  const found = store.photosByIds(ids);
  assert.equal(counts.executed, 1);
  assert.equal(found.size, 250);
  assert.equal(found.get(300)!.path, '/p/300.jpg');
  assert.equal(found.has(9999), false);
  assert.equal(store.photosByIds([]).size, 0);
  store.close();
});

test('a cached statement asked for plain rows after plucked ones gives rows', () => {
  const { store } = libraryOf(0);
  const cache = new StatementCache(store.db);
  assert.equal(cache.prepare('SELECT 7 AS x').pluck().get(), 7);
  assert.deepEqual(cache.prepare('SELECT 7 AS x').get(), { x: 7 });
  assert.equal(cache.size, 1);
  store.close();
});

test('keyset pages cover every row once, in order, also when rows come and go meanwhile', () => {
  const { store, version } = libraryOf(10);
  store.putEmbeddings(
    version,
    Array.from({ length: 10 }, (_, i) => i + 1),
    Array.from({ length: 10 }, (_, i) => vec(4, i)),
  );
  for (let id = 1; id <= 10; id++) store.setStatus(id, 'indexed');
  const seen: number[][] = [];
  for (const page of store.embeddingPages(version, 4)) {
    seen.push(page.ids);
    if (seen.length === 1) {
      store.setStatus(6, 'missing'); // gone before its page is read
      store.setStatus(2, 'missing'); // already read: not seen again
    }
  }
  assert.deepEqual(seen, [[1, 2, 3, 4], [5, 7, 8, 9], [10]]);

  // a full last page ends with one empty fetch, which yields nothing
  const fetched: number[] = [];
  const pages = [
    ...keysetPages(2, (after, limit) => {
      fetched.push(after);
      return { ids: [1, 2, 3, 4].filter((id) => id > after).slice(0, limit) };
    }),
  ];
  assert.deepEqual(
    pages.map((p) => p.ids),
    [
      [1, 2],
      [3, 4],
    ],
  );
  assert.deepEqual(fetched, [0, 2, 4]);
  store.close();
});
