/**
 * The gallery with 100,000 photos, always on the fake engine (it is about the renderer, and indexing
 * 100k real photos is not a test). The grid must keep the DOM
 * small and fetch only the pages in view, wherever the user jumps. Timings are printed, not asserted.
 *   npx tsx --test test/e2e/gallery-scale.e2e.ts
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../src-main/server/http-server';
import { launchChromium } from './browser';
import { createFakeEngine, type FakeEngine } from './fake-engine';
import { buildRenderer, root } from './server-under-test';
import { GalleryPage } from './pages/gallery-page';

const PHOTOS = 100_000;
let engine: FakeEngine;
let server: RunningServer;
let browser: Browser;
let page: Page;
const listCalls: number[] = [];

before(async () => {
  buildRenderer();
  engine = createFakeEngine({ preload: PHOTOS, failEvery: 0 });
  const listPhotos = engine.api.listPhotos;
  engine.api.listPhotos = (args) => {
    listCalls.push(args.offset);
    return listPhotos(args);
  };
  server = await startServer({
    api: engine.api,
    imageSource: engine.images,
    events: engine.events,
    rendererDir: path.join(root, 'dist', 'renderer'),
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await engine?.close();
});

test('100,000 photos: a small DOM, pages fetched on demand, End jumps to the last photo', async () => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const gallery = new GalleryPage(page);
  await page.goto(`${server.url}?token=${server.token}`);
  await gallery.waitForPhotos(PHOTOS);
  assert.equal(await gallery.total(), PHOTOS);
  const cells = await page.locator('[data-testid=grid-cell]').count();
  assert.ok(cells < 400, `only visible rows are rendered (${cells} cells)`);

  await gallery.grid.focus();
  const t0 = Date.now();
  await page.keyboard.press('End');
  const lastIndex = PHOTOS - 1;
  await page.locator(`#cell-${lastIndex}[data-photo-id]`).waitFor();
  const jumpMs = Date.now() - t0;
  assert.ok((await page.locator('[data-testid=grid-cell]').count()) < 400);
  // Only the first page and the pages around the end were fetched, not the 400-odd in between.
  const pages = new Set(listCalls);
  assert.ok(pages.size <= 6, `fetched pages at offsets ${[...pages].join(', ')}`);

  // Scroll steadily through a stretch and measure frame times.
  await page.keyboard.press('Home');
  const frames = await page.evaluate(async () => {
    const grid = document.querySelector<HTMLElement>('[data-testid=photo-grid]')!;
    const times: number[] = [];
    let last = performance.now();
    for (let i = 0; i < 120; i++) {
      grid.scrollTop += 120;
      await new Promise(requestAnimationFrame);
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    times.sort((a, b) => a - b);
    return { median: times[60], p95: times[114] };
  });
  // Ctrl-A selects all 100,000, although only a few pages were ever loaded.
  await gallery.grid.focus();
  const t1 = Date.now();
  await page.keyboard.press('Control+a');
  await page.getByTestId('selection-count').filter({ hasText: '100,000 photos selected' }).waitFor();
  const selectAllMs = Date.now() - t1;
  await page.keyboard.press('Escape');
  console.log(
    `gallery-scale: ${PHOTOS} photos, ${cells} cells in the DOM, End → last photo in ${jumpMs} ms, ` +
      `scroll frame median ${frames.median.toFixed(1)} ms, p95 ${frames.p95.toFixed(1)} ms, ` +
      `Ctrl-A → all selected in ${selectAllMs} ms (headless Chromium, 2 cores)`,
  );
  assert.deepEqual(errors, []);
});
