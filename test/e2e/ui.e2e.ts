/**
 * End-to-end: the real renderer in Debian's Chromium against browser mode, driven only through the UI.
 * The server is the real `likeness serve` on a small Holidays library when the data set is there, else
 * (or with LIKENESS_E2E_REAL=0) the fake engine (see server-under-test.ts). Steps run in order on one library, like a user's first session, and each
 * view is saved to test-results/screenshots/ (the gallery and a similar result also to docs/screenshots/).
 *   npx tsx --test test/e2e/ui.e2e.ts
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser';
import { root, startServerUnderTest, useRealEngine, type ServerUnderTest } from './server-under-test';
import { AppPage } from './pages/app-page';
import { FoldersPage } from './pages/folders-page';
import { GalleryPage } from './pages/gallery-page';
import { ViewerPage } from './pages/viewer-page';
import { QueryPage } from './pages/query-page';
import { AlbumsPage } from './pages/albums-page';
import { DuplicatesPage, groupNames } from './pages/duplicates-page';

const REAL = useRealEngine();
const INDEXING_TIMEOUT = REAL ? 15 * 60_000 : 60_000;

let server: ServerUnderTest;
let browser: Browser;
let page: Page;
let app: AppPage;
let folders: FoldersPage;
let gallery: GalleryPage;
let viewer: ViewerPage;
let query: QueryPage;
let albums: AlbumsPage;
let duplicates: DuplicatesPage;
const pageErrors: string[] = [];

/** The README's screenshots: copied from the run's screenshots, real photos only (the fake's are drawings). */
function publish(file: string, name: string): void {
  if (!REAL) return;
  const dir = path.join(root, 'docs', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(file, path.join(dir, name));
}

/** An outside photo: a sunset-coloured landscape, not in the library. */
async function outsidePhoto(file: string): Promise<void> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600">
    <defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#f08a5d"/><stop offset="1" stop-color="#ffd6a0"/></linearGradient></defs>
    <rect width="800" height="600" fill="url(#g)"/><circle cx="560" cy="170" r="60" fill="#fff3d6"/>
    <path d="M0 420 L200 380 L420 410 L620 360 L800 400 L800 600 L0 600Z" fill="#7a4e6b"/></svg>`;
  await sharp(Buffer.from(svg)).jpeg({ quality: 90 }).toFile(file);
}

describe('Likeness in a browser', { concurrency: false }, () => {
  before(async () => {
    server = await startServerUnderTest();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1360, height: 860 }, deviceScaleFactor: 1 });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    app = new AppPage(page);
    folders = new FoldersPage(page);
    gallery = new GalleryPage(page);
    viewer = new ViewerPage(page);
    query = new QueryPage(page);
    albums = new AlbumsPage(page);
    duplicates = new DuplicatesPage(page);
    await app.open(server.url);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('first run invites adding a folder', async () => {
    await folders.emptyState.waitFor();
    assert.match(await folders.emptyState.innerText(), /Add a folder|Add folder/);
    await app.screenshot('01-first-run');
  });

  test('a folder that vanished gives a clear message and nothing else changes', async () => {
    const gone = path.join(server.scratch, 'Holiday 2019');
    fs.mkdirSync(gone);
    fs.rmdirSync(gone);
    await folders.addFolder(gone);
    const message = await app.toast('error', /Holiday 2019/);
    // the engine's own words (its not_found error), not just any failure
    assert.match(message, /Cannot add \S*Holiday 2019: no such folder/);
    await app.screenshot('02-vanished-folder');
    await folders.emptyState.waitFor();
    await app.dismissToasts();
  });

  test('add the first folder: the gallery fills during and after indexing, without navigating', async () => {
    // Every text the progress shows, as the DOM changes: a poll could miss a short run's counts.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { progressTexts: string[] }).progressTexts = seen;
      new MutationObserver(() => {
        const text = document.querySelector('[data-testid=indexing-progress] .what')?.textContent?.trim();
        if (text && text !== seen.at(-1)) seen.push(text);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await folders.addFolder(server.photoFolder);
    await folders.progress.first().waitFor({ timeout: 30_000 });
    // Thumbnails appear in the view we are on (the first library used to stay at "0 photos" until the user
    // navigated away and back). That they appear while indexing runs is checked at a controlled pace in
    // first-session.e2e.ts; here a fast machine may finish first.
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid=photo-grid]')?.getAttribute('data-total')) > 0,
      undefined,
      { timeout: INDEXING_TIMEOUT, polling: 250 },
    );
    await page.locator('[data-testid=grid-cell] img.ready').first().waitFor({ timeout: 60_000 });
    await app.screenshot('03-indexing');
    await folders.waitForIndexing(INDEXING_TIMEOUT);
    // Progress was visible while it ran, counting up to the folder's photos.
    const texts = await page.evaluate(() => (window as unknown as { progressTexts: string[] }).progressTexts);
    const counts = texts
      .map((t) => /^Indexing ([\d,]+) of ([\d,]+)$/.exec(t))
      .filter((m) => m !== null)
      .map((m) => [Number(m[1].replace(/,/g, '')), Number(m[2].replace(/,/g, ''))]);
    assert.ok(counts.length > 0, `progress showed counts: ${JSON.stringify(texts)}`);
    for (const [done, total] of counts) assert.ok(done <= total, `${done} of ${total}`);
    assert.ok(
      counts.some(([, total]) => total >= server.photoCount),
      `the total covers the folder: ${JSON.stringify(counts)}`,
    );
    await gallery.waitForPhotos(server.photoCount);
    assert.ok((await gallery.total()) >= server.photoCount);
    assert.equal(await page.getByTestId('view-title').innerText(), 'Library', 'never navigated');
    assert.match(await app.statusBar.innerText(), /\d[\d,.]* photos/);
  });

  test('failures are listed with their reasons', async () => {
    await app.nav('folders');
    const failures = await folders.failures();
    if (!REAL) {
      assert.ok(failures.length > 0, 'the fake engine plants unreadable files');
      assert.match(failures[0], /\.jpg[\s\S]*Not a JPEG/);
    }
    await app.screenshot('04-folders');
    await app.nav('library');
  });

  test('the gallery shows thumbnails and sorts', async () => {
    await app.dismissToasts();
    await gallery.sortBy('folder');
    await gallery.waitForPhotos();
    await gallery.waitForThumbnails();
    // Virtualised: far fewer cells in the DOM than photos in the library.
    const rendered = await page.locator('[data-testid=grid-cell]').count();
    assert.ok(rendered < (await gallery.total()), `rendered ${rendered} cells`);
    publish(await app.screenshot('05-gallery'), 'gallery.png');
  });

  test('the served ranking finds the ground-truth positives', async (t) => {
    if (!server.groundTruth) return t.skip('needs the real engine on Holidays photos');
    const gt = server.groundTruth;
    await gallery.sortBy('folder');
    await gallery.waitForPhotos();
    // The ground-truth queries in the first rows of the gallery (always rendered), opened with a click.
    const names = await gallery
      .cells()
      .evaluateAll((els) => els.slice(0, 24).map((el) => el.getAttribute('aria-label') ?? ''));
    const queries = names.filter((name) => gt.has(name)).map((name) => ({ name }));
    assert.ok(queries.length >= 5, `ground-truth queries in view: ${queries.length}`);
    let apSum = 0;
    let top1 = 0;
    for (const q of queries) {
      await page.locator(`[data-testid=grid-cell][aria-label="${q.name}"]`).click();
      await viewer.root.waitFor();
      const positives = gt.get(q.name)!;
      const shown = (await viewer.results(positives.length)).map((r) => r.name);
      await viewer.close();
      // Holidays' AP over the shown list (a positive not shown counts as missed).
      let found = 0;
      let ap = 0;
      shown.forEach((name, rank) => {
        if (positives.includes(name)) ap += ++found / (rank + 1);
      });
      apSum += ap / positives.length;
      if (positives.includes(shown[0])) top1++;
    }
    const mAP = apSum / queries.length;
    t.diagnostic(`${queries.length} queries: mAP ${mAP.toFixed(3)}, top-1 ${top1}/${queries.length}`);
    // Measured on this 80-photo library (centred identity head, below the whitening threshold): mAP 0.53,
    // top-1 5 of 10. Chance is ≈ 0.03; a broken ranking or a head that scrambles it falls far below.
    assert.ok(mAP >= 0.45, `served mAP ${mAP.toFixed(3)}`);
    assert.ok(top1 >= Math.ceil(queries.length * 0.4), `top-1 ${top1}/${queries.length}`);
  });

  test('clicking a photo shows similar photos with scores; results can be followed by keyboard', async () => {
    // Sorted by folder the first photo of the holidays set is 100000.jpg, a ground-truth query.
    const queryId = await gallery.open(0);
    await viewer.root.waitFor();
    const results = await viewer.results(5);
    assert.ok(results.length >= 5);
    assert.ok(!results.some((r) => r.photoId === queryId), 'the query is not its own result');
    for (let i = 1; i < results.length; i++)
      assert.ok(results[i - 1].score >= results[i].score, 'scores descend');
    assert.ok(results.every((r) => r.score >= -1 && r.score <= 1));
    if (server.groundTruth) {
      const name = await page.locator('[data-testid=photo-viewer] .title').innerText();
      const positives = server.groundTruth.get(name.trim());
      assert.ok(positives, `${name} is a ground-truth query`);
      const top = results.slice(0, 5).map((r) => r.name);
      assert.ok(
        top.some((n) => positives.includes(n)),
        `a positive of ${name} in the top 5: ${top.join(', ')}`,
      );
    }
    await page.locator('[data-testid=photo-details]').waitFor();
    await viewer.root.locator('img.full.ready').waitFor();
    publish(await app.screenshot('06-similar'), 'similar.png');

    // The threshold slider hides weaker results at once.
    const cut = results[Math.floor(results.length / 2)].score;
    await viewer.setThreshold(Math.ceil(cut * 100) / 100);
    const fewer = await viewer.results(1);
    assert.ok(fewer.length < results.length && fewer.every((r) => r.score >= Math.ceil(cut * 100) / 100));
    await viewer.setThreshold(0);

    // Keyboard: focus the first result, move right, Enter makes that result the query.
    await viewer.root.getByTestId('result').first().focus();
    await page.keyboard.press('ArrowRight');
    const second = results[1].photoId;
    assert.equal(
      await page.evaluate(() => document.activeElement?.getAttribute('data-photo-id')),
      String(second),
    );
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      (id) =>
        document.querySelector('[data-testid=photo-viewer]')?.getAttribute('data-photo-id') === String(id),
      second,
    );
    const next = await viewer.results(1);
    assert.ok(!next.some((r) => r.photoId === second));
    await page.getByTestId('viewer-back').click();
    assert.equal(await viewer.photoId(), queryId);
  });

  test('draw a region on the large view and get results', async () => {
    await viewer.drawRegion(0.15, 0.2, 0.6, 0.75);
    await viewer.regionBox.waitFor();
    await page.getByText('Like the selected region').waitFor();
    const results = await viewer.results(1);
    assert.ok(results.length > 0);
    await app.screenshot('07-region');
    await viewer.close();
  });

  test('drop an outside image and get results', async () => {
    const file = path.join(server.scratch, 'sunset.jpg');
    await outsidePhoto(file);
    await app.dropFile('sunset.jpg', 'image/jpeg', fs.readFileSync(file));
    const results = await query.results(3);
    assert.ok(results.length >= 3);
    assert.ok(results[0].score >= results.at(-1)!.score);
    await page.getByTestId('query-preview').waitFor();
    await app.screenshot('08-query-by-example');
  });

  test('pick a file to search with', async () => {
    const file = path.join(server.scratch, 'picked.png');
    await sharp({ create: { width: 320, height: 240, channels: 3, background: '#5a7fc0' } })
      .png()
      .toFile(file);
    await query.pickFile(file);
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=query-results] .faint')?.textContent?.includes('results'),
    );
    assert.ok((await query.results(1)).length >= 1);
  });

  test('a dropped non-image, or a huge file, gives a clear message and the window keeps working', async () => {
    await app.dropFile('notes.txt', 'text/plain', Buffer.from('shopping list: milk, eggs'));
    assert.match(await app.toast('error', /notes\.txt/), /not an image/i);
    // A file that claims to be an image but is not: the engine says so.
    await app.dropFile('broken.jpg', 'image/jpeg', Buffer.from('this is not really a jpeg at all'));
    assert.match(await app.toast('error', /broken\.jpg/), /broken\.jpg/);
    // Nothing lost: the earlier results are still shown.
    assert.ok((await query.results(1)).length >= 1);
    // Too large to send: refused before upload, with the limit named.
    await page.evaluate(() => {
      const big = new File([new Uint8Array(41 * 1024 * 1024)], 'huge.jpg', { type: 'image/jpeg' });
      const transfer = new DataTransfer();
      transfer.items.add(big);
      for (const kind of ['dragenter', 'dragover', 'drop'])
        document.body.dispatchEvent(
          new DragEvent(kind, { dataTransfer: transfer, bubbles: true, cancelable: true }),
        );
    });
    assert.match(await app.toast('error', /huge\.jpg/), /too large.*limit/i);
    await app.screenshot('09-bad-drop');
    // Still responsive: navigation works.
    await app.nav('library');
    await gallery.waitForPhotos();
    await app.dismissToasts();
  });

  test('create an album, add selected photos, see them in the album', async () => {
    await albums.create('Sunsets');
    await app.nav('library');
    await gallery.waitForPhotos();
    await gallery.select([0, 1, 2]);
    assert.match(await gallery.selectionCount(), /^3 photos selected/);
    await gallery
      .cells()
      .nth(4)
      .click({ modifiers: ['Shift'] });
    assert.match(await gallery.selectionCount(), /^5 photos selected/);
    await app.screenshot('10-selection');
    await albums.addSelectionTo('Sunsets');
    await app.toast('info', /added to “Sunsets”/);
    await page.waitForFunction(
      () => document.querySelector('[data-testid="album-Sunsets"] .count')?.textContent === '5',
    );
    await albums.open('Sunsets');
    await page.waitForFunction(
      () => document.querySelector('[data-testid=photo-grid]')?.getAttribute('data-total') === '5',
    );
    assert.equal(await page.getByTestId('view-title').innerText(), 'Sunsets');
    // Remove one from the album.
    await gallery.waitForPhotos(5);
    await gallery.select([0]);
    await page.getByTestId('remove-from-album').click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid=photo-grid]')?.getAttribute('data-total') === '4',
    );
    // Rename it.
    await page.getByTestId('rename-album').click();
    await page.getByTestId('rename-album-input').fill('Golden hour');
    await page.getByTestId('rename-album-input').press('Enter');
    await page.getByTestId('album-Golden hour').waitFor();
    await app.screenshot('11-album');
  });

  test('the duplicates view lists a planted duplicate; removal needs confirmation', async () => {
    let planted: [string, string];
    if (REAL) {
      // Plant a re-encoded copy of a library photo in a second folder.
      const dir = path.join(server.scratch, 'Copies');
      fs.mkdirSync(dir);
      const source = fs.readdirSync(server.photoFolder).find((f) => /\.jpe?g$/i.test(f))!;
      await sharp(path.join(server.photoFolder, source))
        .jpeg({ quality: 80 })
        .toFile(path.join(dir, 'planted-copy.jpg'));
      await app.nav('folders');
      const before = await folders.photoCount();
      await folders.addFolder(dir);
      await folders.waitForIndexing(INDEXING_TIMEOUT, before + 1);
      planted = [source, 'planted-copy.jpg'];
    } else planted = ['', ' (copy).jpg'];
    await app.nav('duplicates');
    await duplicates.groups().first().waitFor({ timeout: 30_000 });
    const groups = await groupNames(page);
    const found = groups.some((g) =>
      REAL ? planted.every((n) => g.includes(n)) : g.some((n) => n.endsWith(planted[1])) && g.length >= 2,
    );
    assert.ok(found, `planted duplicate among ${JSON.stringify(groups.slice(0, 5))}`);
    await app.screenshot('12-duplicates');

    // Trash: a confirmation first; cancelling keeps everything.
    const before = await duplicates.groups().count();
    await duplicates.trashMarked();
    await duplicates.dialog.waitFor();
    assert.match(await duplicates.dialog.innerText(), /Trash/);
    await app.screenshot('13-confirm-trash');
    await duplicates.dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await duplicates.groups().count(), before);
    if (!REAL) {
      await duplicates.trashMarked();
      await duplicates.dialog.getByTestId('confirm').click();
      await app.toast('info', /Moved to the Trash/);
      // the copies are gone; near-duplicates (bursts) stay, as nothing in them was marked
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid=duplicate-group][data-kind=copies]').length === 0,
      );
    }
  });

  test('fine-tune on two albums: live chart, verdict with before/after, head versions', async () => {
    // a second album of 4 photos beside "Golden hour" (4 photos): the trainer's minimum
    await albums.create('Second');
    await app.nav('library');
    await gallery.waitForPhotos();
    await gallery.select([10, 11, 12, 13]);
    assert.match(await gallery.selectionCount(), /^4 photos selected/);
    await albums.addSelectionTo('Second');
    await app.toast('info', /added to “Second”/);
    await app.dismissToasts();

    await app.nav('finetune');
    await page.getByTestId('heads').locator('tbody tr').first().waitFor();
    assert.match(await page.getByTestId('heads').innerText(), /v1/);
    assert.match(await page.getByTestId('finetune-albums').innerText(), /Golden hour[\s\S]*Second/);
    const startButton = page.getByTestId('start-finetune');
    assert.match(await startButton.innerText(), /Train on 2 albums/);
    await startButton.click();
    await page.getByTestId('finetune-outcome').waitFor({ timeout: 120_000 });
    const points = Number(await page.getByTestId('r1-line').getAttribute('data-points'));
    assert.ok(points >= 2, `the chart plotted ${points} epochs`);
    // epoch 0 (the starting head) has a held-out figure and no loss
    assert.equal(Number(await page.getByTestId('loss-line').getAttribute('data-points')), points - 1);
    assert.match(await page.getByTestId('finetune-before-after').innerText(), /Held-out Recall@1 .*% → .*%/);
    await app.screenshot('14-finetune');
  });

  test('no uncaught errors in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
