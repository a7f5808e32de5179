/**
 * The gallery's page cache (src-renderer/src/lib/photo-pages.ts), against an in-memory list that can grow
 * as a real library does while it is indexed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhotoPages } from '../../src-renderer/src/lib/photo-pages';
import type { PhotoSummary } from '../../src-main/engine/api/contract';

function library(count: number) {
  const photos: PhotoSummary[] = [];
  const grow = (n: number) => {
    for (let i = 0; i < n; i++) {
      const id = photos.length + 1;
      photos.push({ id, name: `p${id}.jpg`, width: 4, height: 3, takenAt: id });
    }
  };
  grow(count);
  const calls: { offset: number; limit: number }[] = [];
  return {
    grow,
    calls,
    fetchPage: async (offset: number, limit: number) => {
      calls.push({ offset, limit });
      return { total: photos.length, items: photos.slice(offset, offset + limit) };
    },
    fetchIds: async (offset: number, limit: number) => photos.slice(offset, offset + limit).map((p) => p.id),
  };
}

test('an empty library that fills: a refresh asks for the first page again and sees the new total', async () => {
  const lib = library(0);
  const pages = new PhotoPages(lib.fetchPage, 10);
  assert.equal(await pages.ensure(0, 0), true);
  assert.equal(pages.total, 0);
  lib.grow(25);
  pages.refresh();
  assert.equal(await pages.ensure(0, 0), true, 'the first page is fetched again after a refresh');
  assert.equal(pages.total, 25);
  assert.equal(pages.get(0)?.id, 1);
  // Beyond the known total nothing is fetched.
  const before = lib.calls.length;
  assert.equal(await pages.ensure(30, 40), false);
  assert.equal(lib.calls.length, before);
});

test('ids of a range: loaded pages answer directly, a range beyond them is fetched whole', async () => {
  const lib = library(100);
  const pages = new PhotoPages(lib.fetchPage, 10);
  await pages.ensure(0, 0);
  let asked: [number, number] | null = null;
  const fetchIds = (offset: number, limit: number) => {
    asked = [offset, limit];
    return lib.fetchIds(offset, limit);
  };
  assert.deepEqual(await pages.idsBetween(3, 1, fetchIds), [2, 3, 4]);
  assert.equal(asked, null, 'loaded items need no request');
  const all = await pages.idsBetween(0, 99, fetchIds);
  assert.deepEqual(asked, [0, 100]);
  assert.equal(all.length, 100, 'Ctrl-A takes every photo, not only the loaded page');
  assert.deepEqual(all.slice(-2), [99, 100]);
  assert.equal((await pages.idsBetween(95, 500, fetchIds)).length, 5, 'clamped to the total');
});
