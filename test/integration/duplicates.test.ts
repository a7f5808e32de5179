/**
 * The duplicate finder through the Library, with its work in the duplicates worker: on a graph (a library
 * above exactBelow) and on all pairs of a small one, and for photos indexed before fingerprints existed
 * (the engine makes theirs once, then the worker compares them).
 */
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Library } from '../../src-main/engine/library';
import { projectBatch } from '../../src-main/engine/head/project';
import { FakeEmbedder } from '../helpers/fake-embedder';
import { makePhoto, tempDir } from '../helpers/images';
import { internals } from '../helpers/library-internals';

async function libraryWithACopy(exactBelow: number) {
  const root = tempDir();
  for (let i = 0; i < 12; i++) await makePhoto(path.join(root, `p${i}.jpg`), i);
  fs.copyFileSync(path.join(root, 'p3.jpg'), path.join(root, 'copy-of-p3.jpg'));
  const lib = await Library.open(tempDir(), new FakeEmbedder(), {
    headOps: { projectBatch },
    ann: { exactBelow },
  });
  await lib.addFolder(root);
  assert.equal((await lib.startIndexing()).state, 'done');
  await lib.whenIndexReady();
  const ids = ['p3.jpg', 'copy-of-p3.jpg'].map((f) => lib.photoByPath(path.join(root, f))!.id).sort();
  return { lib, ids };
}

const copyGroups = async (lib: Library) => (await lib.duplicates(0.99)).filter((g) => g.kind === 'copies');

for (const [name, exactBelow] of [
  ['on the graph', 4],
  ['on all pairs of a small library', 1000],
] as const)
  test(`a copy is found ${name}, with one of the pair proposed for removal`, async () => {
    const { lib, ids } = await libraryWithACopy(exactBelow);
    try {
      assert.equal(internals(lib).index.view().approximate, exactBelow < 13);
      const groups = await copyGroups(lib);
      assert.equal(groups.length, 1, JSON.stringify(groups));
      assert.deepEqual(groups[0].photos.map((p) => p.photo.id).sort(), ids);
      assert.equal(groups[0].photos.filter((p) => p.copyOf !== null).length, 1);
      assert.ok(groups[0].score >= 0.99);
    } finally {
      await lib.close();
    }
  });

test('photos indexed before fingerprints existed get theirs once, and their copies are found', async () => {
  const { lib, ids } = await libraryWithACopy(4);
  try {
    const { store } = internals(lib);
    store.db.prepare('DELETE FROM fingerprints').run();
    const groups = await copyGroups(lib);
    assert.equal(groups.length, 1);
    assert.deepEqual(groups[0].photos.map((p) => p.photo.id).sort(), ids);
    assert.equal(store.fingerprints(ids).size, 2, 'the fingerprints made are stored');
  } finally {
    await lib.close();
  }
});
