/**
 * Fine-tuning stays visible and the user stays in charge, on the fake engine (a slow simulated run; the
 * real engine's side is in test/integration/engine-api.test.ts), driven through the UI.
 *   npx tsx --test test/e2e/finetune.e2e.ts
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../src-main/server/http-server';
import { launchChromium } from './browser';
import { createFakeEngine, type FakeEngine } from './fake-engine';
import { buildRenderer, root } from './server-under-test';
import { AppPage } from './pages/app-page';

let engine: FakeEngine;
let server: RunningServer;
let browser: Browser;
let page: Page;
let app: AppPage;
const pageErrors: string[] = [];

const text = async (testId: string) =>
  (await page.getByTestId(testId).innerText()).replace(/\s+/g, ' ').trim();

describe('fine-tuning in the UI', { concurrency: false }, () => {
  before(async () => {
    buildRenderer();
    // 1 s an epoch: a 20-epoch run lasts 20 s, long enough to reload in the middle of it
    engine = createFakeEngine({ preload: 60, epochMs: 1000, adoptCandidates: false });
    server = await startServer({
      api: engine.api,
      imageSource: engine.images,
      events: engine.events,
      rendererDir: path.join(root, 'dist', 'renderer'),
    });
    // two albums of 8 photos: the albums are the fine-tuning's input, made here to keep to the point
    for (const [name, first] of [
      ['Sunsets', 1],
      ['Hills', 20],
    ] as const) {
      const { album } = await engine.api.createAlbum({ name });
      await engine.api.addToAlbum({
        albumId: album.id,
        photoIds: Array.from({ length: 8 }, (_, i) => first + i),
      });
    }
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 820 }, deviceScaleFactor: 1 });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    app = new AppPage(page);
    await app.open(`${server.url}?token=${server.token}`);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await engine?.close();
  });

  test('a reload during training shows training in progress, from epoch 0, and offers no second start', async () => {
    await app.nav('finetune');
    const start = page.getByTestId('start-finetune');
    assert.match(await start.innerText(), /Train on 2 albums/);
    await start.click();
    await page
      .getByTestId('finetune-epoch')
      .filter({ hasText: /Training: epoch [1-9]/ })
      .waitFor();

    await page.reload();
    await page.locator('[data-testid=status-bar]').waitFor();
    // every view: the status bar says a run is in progress, and leads to it
    await page
      .getByTestId('training-status')
      .filter({ hasText: /Fine-tuning: epoch \d+ of up to 20/ })
      .waitFor();
    await page.getByTestId('training-status').click();
    await page
      .getByTestId('finetune-epoch')
      .filter({ hasText: /Training: epoch \d+ of up to 20/ })
      .waitFor();
    assert.equal(await page.getByTestId('start-finetune').count(), 0, 'no second start while one runs');
    await page.getByTestId('cancel-finetune').waitFor();
    // the chart holds every epoch so far, from epoch 0 (the starting head's figure), not only those after the reload
    const points = Number(await page.getByTestId('r1-line').getAttribute('data-points'));
    const epoch = Number((await text('finetune-epoch')).match(/epoch (\d+)/)![1]);
    assert.ok(points >= epoch + 1, `${points} points for epochs 0..${epoch}`);
    assert.equal(
      Number(await page.getByTestId('loss-line').getAttribute('data-points')),
      points - 1,
      'epoch 0 has a held-out figure but no loss',
    );
    await page.getByTestId('finetune-outcome').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('training-status').count(), 0, 'the status bar lets go once it ends');
    await page.getByTestId('start-finetune').waitFor();
  });

  test('a candidate the trainer rejected is listed with its figures and can be used anyway, then rolled back', async () => {
    // the run of the previous step ended with a candidate this fake never adopts
    assert.match(await text('finetune-outcome'), /not adopted/);
    const heads = page.getByTestId('heads');
    await heads.getByText('Candidate, not adopted').waitFor();
    assert.match(await heads.innerText(), /v2\s+Candidate, not adopted[\s\S]*80\.0%/);
    assert.match(await heads.innerText(), /label more photos per album/, 'the verdict is listed with it');
    await page.getByTestId('outcome-use-anyway').click();
    const caveat = page.getByTestId('use-anyway-confirm');
    assert.match(await caveat.innerText(), /did not adopt it: Not adopted: .*not a reliable gain/);
    await page.getByTestId('use-anyway-yes').click();
    await page.waitForFunction(() =>
      /v2[\s\S]*In use/.test(document.querySelector('[data-testid=heads] tr.active')?.textContent ?? ''),
    );
    assert.equal((await engine.api.status({})).head?.version, 2, 'the engine serves the candidate');
    // rolling back works as today
    await page.getByTestId('roll-back').click();
    await page.waitForFunction(() =>
      /v1/.test(document.querySelector('[data-testid=heads] tr.active')?.textContent ?? ''),
    );
    assert.equal((await engine.api.status({})).head?.version, 1);
  });

  test('no uncaught errors in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
