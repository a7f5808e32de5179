import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src-main/engine/api/contract';
import { createEngineInWorker } from '../../src-main/engine/host/engine-in-worker';
import { tempDir } from '../helpers/images';

test('browser mode’s engine runs in a worker: calls are forwarded, errors keep their code, images need no engine call', async () => {
  const dbDir = tempDir();
  const trashed: string[] = [];
  const host = await createEngineInWorker({
    dbDir,
    trash: (p) => (trashed.push(p), Promise.resolve()),
    log: () => undefined,
  });
  try {
    const status = await host.api.status({});
    assert.equal(status.photos.total, 0);
    await assert.rejects(
      host.api.getPhoto({ photoId: 12345 }),
      (e: unknown) => e instanceof ApiError && e.code === 'not_found',
    );
    await assert.rejects(
      host.api.addFolder({ path: path.join(dbDir, 'no-such-folder') }),
      (e: unknown) => e instanceof ApiError,
    );
    // the serving side answers media from the database file the engine wrote, read-only
    assert.ok(fs.existsSync(path.join(dbDir, 'library.sqlite')));
    await assert.rejects(
      host.images.thumbnail(1),
      (e: unknown) => e instanceof ApiError && e.code === 'not_found',
    );
  } finally {
    await host.close();
  }
  await assert.rejects(
    host.api.status({}),
    (e: unknown) => e instanceof ApiError && e.code === 'unavailable',
  );
});
