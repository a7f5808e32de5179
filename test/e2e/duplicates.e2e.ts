/**
 * The duplicates view's behaviour, on the fake engine (whose library has planted copies and bursts):
 * copies start marked for removal, near-duplicates never do, every group shows its score, and the
 * user's Keep/Remove choices survive a trash.
 *   npx tsx --test test/e2e/duplicates.e2e.ts
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../src-main/server/http-server';
import { launchChromium } from './browser';
import { createFakeEngine, type FakeEngine } from './fake-engine';
import { buildRenderer, root } from './server-under-test';
import { AppPage } from './pages/app-page';
import { DuplicatesPage } from './pages/duplicates-page';

let engine: FakeEngine;
let server: RunningServer;
let browser: Browser;
let page: Page;

before(async () => {
  buildRenderer();
  // 160 photos: copies at 10, 60, 110; bursts (another shot of the photo before) at 20, 70, 120
  engine = createFakeEngine({ preload: 160 });
  server = await startServer({
    api: engine.api,
    imageSource: engine.images,
    events: engine.events,
    rendererDir: path.join(root, 'dist', 'renderer'),
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await engine?.close();
});

test('copies are marked, near-duplicates are not, scores are shown, choices survive a trash', async () => {
  const app = new AppPage(page);
  const dups = new DuplicatesPage(page);
  await page.goto(`${server.url}?token=${server.token}`);
  await app.nav('duplicates');
  await dups.groups().first().waitFor();

  const copies = await dups.groupStates('copies');
  const near = await dups.groupStates('near-duplicates');
  assert.ok(copies.length >= 2, `copy groups: ${JSON.stringify(copies)}`);
  assert.ok(near.length >= 1, `near-duplicate groups: ${JSON.stringify(near)}`);
  for (const g of copies) {
    assert.deepEqual(g.keep.filter((k) => !k).length, g.keep.length - 1, 'all but one copy marked');
    assert.match(g.score, /copy score 0\.9\d\d|copy score 1\.000/);
  }
  for (const g of near) {
    assert.ok(g.keep.every(Boolean), `nothing pre-marked in a near-duplicate group: ${JSON.stringify(g)}`);
    assert.match(g.score, /similarity 0\.\d\d|similarity 1\.00/);
  }

  // The user keeps both photos of the first copy group, then trashes what is still marked.
  const first = dups.groups().and(page.locator('[data-kind=copies]')).first();
  const firstIds = await first
    .locator('figure')
    .evaluateAll((fs) => fs.map((f) => Number(f.getAttribute('data-photo-id'))));
  await first.getByTestId('keep').and(page.locator('[aria-pressed=false]')).click();
  assert.ok((await dups.groupStates('copies'))[0].keep.every(Boolean));
  const marked = copies.slice(1).reduce((n, g) => n + g.keep.filter((k) => !k).length, 0);
  await dups.trashMarked();
  await dups.dialog.getByTestId('confirm').click();
  await app.toast('info', /Moved to the Trash/);
  // The other copy groups are gone; the one the user kept whole is still there, still all "Keep".
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid=duplicate-group][data-kind=copies]').length === n,
    1,
  );
  const after = await dups.groupStates('copies');
  assert.deepEqual(after[0].ids.sort(), firstIds.sort());
  assert.ok(after[0].keep.every(Boolean), 'the choice to keep both survived the trash');
  assert.ok(marked >= 1);
  // Near-duplicates are untouched.
  assert.deepEqual(
    (await dups.groupStates('near-duplicates')).map((g) => g.ids),
    near.map((g) => g.ids),
  );
});
