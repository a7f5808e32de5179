import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envValue } from '../../src-main/engine/config';
import { Library } from '../../src-main/engine/library';
import { projectBatch } from '../../src-main/engine/head/project';
import type { PhotoEmbedder } from '../../src-main/engine/embed/photo-embedder';
import { DatabaseFolderError } from '../../src-main/engine/store/open-database';
import { FakeEmbedder } from '../helpers/fake-embedder';
import { makePhoto, tempDir, writePngBomb } from '../helpers/images';

const headOps = { projectBatch };
const isRoot = process.getuid?.() === 0;

/** LIKENESS_REAL_EMBEDDER=1 runs the bad-file case through the real decoder and model instead of the fake. */
async function embedderForBadFiles(): Promise<PhotoEmbedder> {
  if (envValue('LIKENESS_REAL_EMBEDDER') !== '1') return new FakeEmbedder();
  const { createDefaultEmbedder } = await import('../../src-main/engine/embed/default-embedder');
  return createDefaultEmbedder();
}

test('bad files are recorded per file with a clear reason, and the run completes', async () => {
  const root = tempDir();
  const good = ['good1.jpg', 'good2.png', 'ünïcödé ✓.webp', 'x'.repeat(240) + '.jpg'];
  for (const [i, n] of good.entries()) await makePhoto(path.join(root, n), i);
  fs.writeFileSync(path.join(root, 'zero.jpg'), '');
  await makePhoto(path.join(root, 'full.jpg'), 9, { size: 256 });
  const full = fs.readFileSync(path.join(root, 'full.jpg'));
  fs.writeFileSync(path.join(root, 'truncated.jpg'), full.subarray(0, Math.floor(full.length / 2)));
  fs.rmSync(path.join(root, 'full.jpg'));
  fs.writeFileSync(path.join(root, 'text.jpg'), 'this is not a photo\n'.repeat(20));
  writePngBomb(path.join(root, 'bomb.png'));
  await makePhoto(path.join(root, 'locked.jpg'), 20);
  fs.chmodSync(path.join(root, 'locked.jpg'), 0o000);
  fs.symlinkSync(root, path.join(root, 'loop'));
  await makePhoto(path.join(root, 'vanishing.jpg'), 30);
  const badName = Buffer.concat([Buffer.from(root + '/'), Buffer.from([0xc3, 0x28]), Buffer.from('.jpg')]);
  fs.copyFileSync(path.join(root, 'good1.jpg'), badName);

  const embedder = await embedderForBadFiles();
  const lib = await Library.open(tempDir(), embedder, { headOps });
  await lib.addFolder(root);
  fs.rmSync(path.join(root, 'vanishing.jpg')); // between scan and decode
  const summary = await lib.startIndexing();
  assert.equal(summary.state, 'done');

  for (const n of good) assert.equal(lib.photoByPath(path.join(root, n))?.status, 'indexed', n);
  const error = (n: string) => {
    const p = lib.photoByPath(path.join(root, n))!;
    assert.ok(p, n);
    return p;
  };
  for (const [n, why] of [
    ['zero.jpg', /empty|unsupported|Input|not/i],
    ['truncated.jpg', /truncat|premature|corrupt|end of/i],
    ['text.jpg', /unsupported image format|Input buffer|not/i],
    ['bomb.png', /pixel limit|exceeds|megapixels|bomb/i],
  ] as const) {
    const p = error(n);
    assert.equal(p.status, 'failed', `${n}: ${p.status}`);
    assert.ok(p.error!.includes(p.path), `${n}: the message names the file: ${p.error}`);
    assert.match(p.error!, why, `${n}: ${p.error}`);
  }
  const locked = error('locked.jpg');
  if (isRoot) {
    // root reads through chmod 000, so this case cannot fail here; the photo simply indexes.
    assert.equal(locked.status, 'indexed');
  } else {
    assert.equal(locked.status, 'failed');
    assert.match(locked.error!, /EACCES|permission/i);
  }
  const gone = error('vanishing.jpg');
  assert.equal(gone.status, 'missing');
  assert.match(gone.error!, /disappeared/);
  const failed = lib.failurePage(0, 1000).rows;
  assert.ok(
    failed.some((p) => /not valid UTF-8/.test(p.error!)),
    'non-UTF-8 name recorded',
  );
  // the symlink loop did not duplicate anything: each good photo exactly once
  assert.equal(lib.status().photos.indexed, good.length + (isRoot ? 1 : 0));
  // nothing good lost on a rescan + rerun, and failures are not retried until the file changes
  await lib.rescan();
  assert.equal((await lib.startIndexing()).done, 0);
  await lib.close();
  await embedder.close?.();
});

test('a database folder that is not writable gives a clear message', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'not-a-folder');
  fs.writeFileSync(file, '');
  await assert.rejects(Library.open(path.join(file, 'db'), new FakeEmbedder(), { headOps }), (e: Error) => {
    assert.ok(e instanceof DatabaseFolderError);
    assert.match(e.message, /Cannot use database folder .*not-a-folder/);
    return true;
  });
});

test(
  'a read-only database folder gives a clear message',
  { skip: isRoot && 'running as root: permissions do not apply' },
  async () => {
    const dir = tempDir();
    fs.chmodSync(dir, 0o555);
    await assert.rejects(Library.open(dir, new FakeEmbedder(), { headOps }), /Cannot use database folder/);
  },
);

test('a corrupt HNSW file is rebuilt; queries answer meanwhile and nothing is lost', async () => {
  const root = tempDir();
  for (let i = 0; i < 20; i++) await makePhoto(path.join(root, `p${i}.jpg`), i);
  const db = tempDir();
  let lib = await Library.open(db, new FakeEmbedder(), { headOps, ann: { exactBelow: 0 } });
  await lib.addFolder(root);
  await lib.startIndexing();
  await lib.whenIndexReady();
  await lib.close();
  fs.writeFileSync(path.join(db, 'index.hnsw'), 'garbage');
  lib = await Library.open(db, new FakeEmbedder(), { headOps, ann: { exactBelow: 0 } });
  assert.match(lib.openWarnings.join('\n'), /search index file was damaged/);
  const p = lib.photoByPath(path.join(root, 'p4.jpg'))!;
  assert.equal(lib.similar(p.id, { k: 50 }).length, 19);
  await lib.whenIndexReady();
  assert.equal(lib.status().index.ready, true);
  assert.equal(lib.similar(p.id, { k: 50 }).length, 19);
  await lib.close();
});
