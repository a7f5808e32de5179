import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../src-main/engine/store/store';
import { DB_FILE } from '../../src-main/engine/store/open-database';

test('a write transaction holds the write lock from its start, so another writer waits instead of breaking it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'likeness-lock-'));
  const store = Store.open(dir);
  // the other writer: the index worker's connection, here impatient so that a held lock shows at once
  const other = new Database(path.join(dir, DB_FILE));
  other.pragma('busy_timeout = 0');
  try {
    const albums = store.transaction(() => {
      const before = store.listAlbums().length; // a read first, as commitIndexed does
      // A deferred transaction would let this commit, and then fail its own write with SQLITE_BUSY.
      assert.throws(
        () => other.prepare("INSERT INTO albums (name, created_at) VALUES ('x', 0)").run(),
        /database is locked/,
      );
      store.createAlbum('mine');
      return before + 1;
    });
    assert.equal(store.listAlbums().length, albums);
    other.prepare("INSERT INTO albums (name, created_at) VALUES ('after', 0)").run();
    assert.equal(store.listAlbums().length, albums + 1, 'once committed, the other writer goes ahead');
  } finally {
    other.close();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
