/**
 * A new user's first session, on the fake engine (these are renderer behaviours; the real engine's side of
 * each is in test/integration/engine-api.test.ts): every defect a first user met, driven through the UI.
 *   npx tsx --test test/e2e/first-session.e2e.ts
 * Steps run in order on one library; each would fail on the renderer before its fix.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../src-main/server/http-server';
import { launchChromium } from './browser';
import { createFakeEngine, type FakeEngine } from './fake-engine';
import { buildRenderer, root } from './server-under-test';
import { AppPage } from './pages/app-page';
import { FoldersPage } from './pages/folders-page';
import { GalleryPage } from './pages/gallery-page';
import { ViewerPage } from './pages/viewer-page';
import { QueryPage } from './pages/query-page';
import { AlbumsPage } from './pages/albums-page';

// 300 made-up photos, every 97th unreadable (ids 97, 194, 291): 297 photos and 3 files that are not.
const FILES = 300;
const PHOTOS = 297;

let engine: FakeEngine;
let server: RunningServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let scratch: string;
let app: AppPage;
let folders: FoldersPage;
let gallery: GalleryPage;
let viewer: ViewerPage;
let albums: AlbumsPage;
const pageErrors: string[] = [];

const text = async (testId: string) =>
  (await page.getByTestId(testId).innerText()).replace(/\s+/g, ' ').trim();

describe('a first session, defect by defect', { concurrency: false }, () => {
  before(async () => {
    buildRenderer();
    // Slow enough that the first indexing lasts several seconds: the gallery must fill while it runs.
    engine = createFakeEngine({ photosPerFolder: FILES, rate: 50 });
    server = await startServer({
      api: engine.api,
      imageSource: engine.images,
      events: engine.events,
      rendererDir: path.join(root, 'dist', 'renderer'),
    });
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'likeness-first-session-'));
    fs.mkdirSync(path.join(scratch, 'Pictures', 'Trips'), { recursive: true });
    fs.writeFileSync(path.join(scratch, 'Pictures', 'README.txt'), 'the fake engine makes up these photos');
    fs.mkdirSync(path.join(scratch, 'Empty'));
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 820 }, deviceScaleFactor: 1 });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    app = new AppPage(page);
    folders = new FoldersPage(page);
    gallery = new GalleryPage(page);
    viewer = new ViewerPage(page);
    albums = new AlbumsPage(page);
    await app.open(`${server.url}?token=${server.token}`);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await engine?.close();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  test('the first folder fills the gallery live, during and after indexing, without navigating', async () => {
    await folders.emptyState.waitFor();
    await folders.addFolder(path.join(scratch, 'Pictures'));
    const added = app.toast('info', /Folder added/);
    // While indexing still runs, photos are already in the grid of the view we are on, and the header says
    // where the rest are rather than disagreeing with the library's count.
    await page.waitForFunction(
      () =>
        !!document.querySelector('[data-testid=indexing-progress]') &&
        Number(document.querySelector('[data-testid=photo-grid]')?.getAttribute('data-total')) > 0 &&
        /^\d+ photos? · \d+ more on the way$/.test(
          document.querySelector('[data-testid=view-count]')?.textContent?.trim() ?? '',
        ) &&
        !!document.querySelector('[data-testid=grid-cell] img.ready'),
      undefined,
      { timeout: 30_000, polling: 100 },
    );
    await app.screenshot('first-session-01-filling');
    assert.match(await added, /300 photos found/);
    await folders.waitForIndexing(60_000, PHOTOS);
    await gallery.waitForPhotos(PHOTOS);
    assert.equal(await gallery.total(), PHOTOS);
    assert.equal(await page.getByTestId('view-title').innerText(), 'Library', 'never left the library view');
  });

  test('one definition of a photo: unreadable files are counted apart, the same everywhere', async () => {
    await app.dismissToasts();
    const library = await page.getByTestId('nav-library').locator('.count').innerText();
    assert.equal(library, String(PHOTOS), 'sidebar');
    assert.equal(await text('view-count'), `${PHOTOS} photos`, 'gallery header');
    assert.match(await text('library-size'), new RegExp(`^${PHOTOS} photos`), 'status bar');
    assert.equal(await text('unreadable'), '3 files could not be read');
    await app.nav('folders');
    assert.equal(await text('folder-count'), `${PHOTOS} photos`, 'folder row');
    assert.equal(await text('folder-unreadable'), '3 files could not be read');
    await app.screenshot('first-session-02-counts');
  });

  test('adding a folder already in the library, a subfolder of one, or one without photos says so', async () => {
    await folders.addFolder(path.join(scratch, 'Pictures'));
    assert.match(await app.toast('error', /add the folder/), /already in the library/);
    await folders.addFolder(path.join(scratch, 'Pictures', 'Trips'));
    assert.match(
      await app.toast('error', /add the folder/),
      /Trips is already in the library, as part of .*Pictures/,
    );
    await folders.addFolder(path.join(scratch, 'Empty'));
    assert.match(await app.toast('error', /add the folder/), /No photos in this folder/);
    assert.equal(await page.getByTestId('folders').locator('li').count(), 1, 'nothing was added');
    assert.equal(await page.getByTestId('toast-info').count(), 0, 'no "Folder added" toast');
    await app.screenshot('first-session-03-folder-answers');
    await app.dismissToasts();
  });

  test('the status bar says in plain words what runs, with the details on hover', async () => {
    const info = page.getByTestId('model-info');
    assert.equal((await info.innerText()).trim(), 'CPU · model v1');
    const detail = (await info.getAttribute('title')) ?? '';
    assert.match(detail, /mixed5/);
    assert.match(detail, /512-dimensional/);
  });

  test('Ctrl-A selects the whole view, not only the loaded pages; add-to-album and trash act on all of it', async () => {
    await app.nav('library');
    await gallery.waitForPhotos(PHOTOS);
    await albums.create('Everything');
    await app.nav('library');
    await gallery.waitForPhotos(PHOTOS);
    // Only the first page (240) is loaded at the top of the grid.
    await gallery.grid.focus();
    await page.keyboard.press('Control+a');
    await page
      .getByTestId('selection-count')
      .filter({ hasText: `${PHOTOS} photos selected` })
      .waitFor();
    await albums.addSelectionTo('Everything');
    await app.toast('info', /added to “Everything”/);
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid="album-Everything"] .count')?.textContent === String(n),
      PHOTOS,
    );

    // Trash two through the selection bar: a confirmation, then they leave every count.
    await app.dismissToasts();
    await gallery.select([0, 1]);
    await page.getByTestId('trash-selection').click();
    const dialog = page.getByTestId('confirm-dialog');
    assert.match(await dialog.innerText(), /Move 2 photos to the Trash/);
    await dialog.getByTestId('confirm').click();
    await app.toast('info', /Moved to the Trash/);
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid=library-size]')?.getAttribute('data-photos') === String(n),
      PHOTOS - 2,
    );
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid=photo-grid]')?.getAttribute('data-total') === String(n),
      PHOTOS - 2,
    );
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid="album-Everything"] .count')?.textContent === String(n),
      PHOTOS - 2,
    );
    await app.dismissToasts();
  });

  test('thumbnail size control, the file name on hover', async () => {
    const columns = async () =>
      page.evaluate(() => {
        const xs = [...document.querySelectorAll<HTMLElement>('[data-testid=grid-cell]')].map(
          (c) => c.getBoundingClientRect().left,
        );
        return new Set(xs.map(Math.round)).size;
      });
    const before = await columns();
    await page.getByTestId('thumb-size').fill('320');
    await page.waitForFunction((n) => {
      const xs = [...document.querySelectorAll<HTMLElement>('[data-testid=grid-cell]')].map((c) =>
        Math.round(c.getBoundingClientRect().left),
      );
      return new Set(xs).size < n;
    }, before);
    const after = await columns();
    assert.ok(after < before, `bigger thumbnails, fewer columns (${before} → ${after})`);
    const first = gallery.cells().first();
    const name = await first.getAttribute('title');
    assert.match(name ?? '', /^IMG_\d+.*\.jpg$/);
    await first.hover();
    await page.waitForFunction(
      () => getComputedStyle(document.querySelector('[data-testid=grid-cell]:hover .name')!).opacity === '1',
    );
    await app.screenshot('first-session-04-big-thumbnails');
    // Remembered.
    await page.reload();
    await gallery.waitForPhotos();
    assert.equal(await page.getByTestId('thumb-size').inputValue(), '320');
    await page.getByTestId('thumb-size').fill('150');
  });

  test('a theme switch: system, light or dark, remembered', async () => {
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: 'light' });
    assert.equal(await page.getByTestId('theme').inputValue(), 'system');
    const light = await background();
    await page.getByTestId('theme').selectOption('dark');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    const dark = await background();
    assert.notEqual(dark, light);
    await page.reload();
    await page.getByTestId('status-bar').waitFor();
    assert.equal(await page.getByTestId('theme').inputValue(), 'dark');
    assert.equal(await background(), dark, 'the choice outlives a reload');
    await gallery.waitForPhotos();
    await app.screenshot('first-session-05-dark');
    // "System" follows the OS again.
    await page.getByTestId('theme').selectOption('system');
    await page.emulateMedia({ colorScheme: 'dark' });
    assert.equal(await background(), dark);
    await page.emulateMedia({ colorScheme: 'light' });
    assert.equal(await background(), light);
  });

  test('similar photos: "Show more" past 60, and a threshold above every score says so', async () => {
    await gallery.open(0);
    const first = await viewer.results(60);
    assert.equal(first.length, 60);
    await viewer.root.getByTestId('show-more').click();
    const more = await viewer.results(61);
    assert.ok(more.length > 60, `${more.length} results after Show more`);
    assert.deepEqual(
      more.slice(0, 60).map((r) => r.photoId),
      first.map((r) => r.photoId),
      'the first results stay in place',
    );
    await viewer.setThreshold(1);
    await viewer.root.getByTestId('nothing-similar').waitFor();
    assert.match(await viewer.root.getByTestId('nothing-similar').innerText(), /Nothing this similar/);
    assert.equal(await viewer.root.getByTestId('similar-count').count(), 0, 'no "0 of 60 shown"');
    assert.equal(await viewer.root.getByTestId('show-more').count(), 0);
    await app.screenshot('first-session-06-nothing-this-similar');
    await viewer.setThreshold(0);
    await page.getByTestId('viewer-back').click();
    await viewer.root.waitFor({ state: 'detached' });
  });

  test('an outside image: "Show more" past 100', async () => {
    const file = path.join(scratch, 'sunset.jpg');
    await sharp({ create: { width: 320, height: 240, channels: 3, background: '#f08a5d' } })
      .jpeg()
      .toFile(file);
    const query = new QueryPage(page);
    await query.pickFile(file);
    assert.equal((await query.results(100)).length, 100);
    await query.root.getByTestId('show-more').click();
    assert.ok((await query.results(101)).length > 100);
  });

  test('a taken album name is refused in the box itself, ready to retype', async () => {
    await albums.create('Pizza');
    await page.getByTestId('new-album').click();
    const box = page.getByTestId('new-album-name');
    await box.fill('Pizza');
    await box.press('Enter');
    assert.match(await text('new-album-error'), /An album called “Pizza” already exists/);
    assert.equal(await box.getAttribute('aria-invalid'), 'true');
    assert.equal(
      await box.evaluate((el: HTMLInputElement) =>
        el.value.slice(el.selectionStart ?? 0, el.selectionEnd ?? 0),
      ),
      'Pizza',
      'the refused name is selected, so typing replaces it',
    );
    await app.screenshot('first-session-07-taken-album-name');
    await page.keyboard.type('Pasta');
    assert.equal(await page.getByTestId('new-album-error').count(), 0, 'typing clears the message');
    await box.press('Enter');
    await page.getByTestId('album-Pasta').waitFor();
    assert.equal(await page.getByTestId('new-album-name').count(), 0, 'the box closed');
    // Clicking away from a refused name closes the box rather than leaving it open.
    await page.getByTestId('new-album').click();
    await page.getByTestId('new-album-name').fill('Pasta');
    await page.getByTestId('new-album-name').press('Enter');
    await page.getByTestId('new-album-error').waitFor();
    await page.getByTestId('view-title').click();
    await page.getByTestId('new-album-name').waitFor({ state: 'detached' });
  });

  test('a paste whose target is not an element is ignored without an error', async () => {
    const errorsBefore = pageErrors.length;
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.setData('text/plain', 'hello');
      window.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data }));
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
    });
    // Page errors arrive as events: one round trip later they would have been seen.
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
    assert.deepEqual(pageErrors.slice(errorsBefore), []);
  });

  test('the page without a token is styled and tells both ways of starting what to open', async () => {
    const stranger = await browser.newPage();
    try {
      const response = await stranger.goto(server.url);
      assert.equal(response?.status(), 401);
      const body = await stranger.getByTestId('not-signed-in').innerText();
      assert.match(body, /npm start/);
      assert.match(body, /likeness serve/);
      assert.match(body, /\?token=/);
      const styled = await stranger.evaluate(() => {
        const main = getComputedStyle(document.querySelector('main')!);
        return { radius: main.borderTopLeftRadius, font: getComputedStyle(document.body).fontFamily };
      });
      assert.equal(styled.radius, '10px');
      assert.doesNotMatch(styled.font, /^"?Times/);
      fs.mkdirSync(path.join(root, 'test-results', 'screenshots'), { recursive: true });
      await stranger.screenshot({
        path: path.join(root, 'test-results', 'screenshots', 'first-session-08-no-token.png'),
      });
    } finally {
      await stranger.close();
    }
  });

  test('no uncaught errors in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
