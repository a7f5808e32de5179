/** The whole window: navigation, toasts, status bar, screenshots, and dropping files from outside. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';

export const SCREENSHOTS = path.resolve(
  fileURLToPath(import.meta.url),
  '..',
  '..',
  '..',
  '..',
  'test-results',
  'screenshots',
);

export type NavTarget = 'library' | 'folders' | 'duplicates' | 'finetune' | 'results';

export class AppPage {
  constructor(readonly page: Page) {}

  async open(url: string): Promise<void> {
    await this.page.goto(url);
    await this.page.locator('[data-testid=status-bar]').waitFor();
  }

  async nav(target: NavTarget): Promise<void> {
    await this.page.getByTestId(`nav-${target}`).click();
  }

  get statusBar(): Locator {
    return this.page.getByTestId('status-bar');
  }

  /** Waits for a toast of `kind` whose text matches, and returns its text. */
  async toast(kind: 'error' | 'info', text: RegExp, timeout = 15_000): Promise<string> {
    const toast = this.page.getByTestId(`toast-${kind}`).filter({ hasText: text }).last();
    await toast.waitFor({ timeout });
    return (await toast.innerText()).replace(/\s+/g, ' ').trim();
  }

  async dismissToasts(): Promise<void> {
    const buttons = this.page.getByRole('button', { name: 'Dismiss' });
    // A toast may expire between the count and the click: then there is nothing left to click.
    while ((await buttons.count()) > 0)
      await buttons
        .first()
        .click({ timeout: 2000 })
        .catch(() => undefined);
  }

  /** A file dragged in from outside the window: a DataTransfer built in the page, then dragenter/over/drop. */
  async dropFile(name: string, type: string, bytes: Buffer): Promise<void> {
    await this.page.evaluate(
      ({ name, type, base64 }) => {
        const raw = atob(base64);
        const data = new Uint8Array(raw.length);
        for (let i = 0; i < raw.length; i++) data[i] = raw.charCodeAt(i);
        const transfer = new DataTransfer();
        transfer.items.add(new File([data], name, { type }));
        for (const kind of ['dragenter', 'dragover', 'drop'])
          document.body.dispatchEvent(
            new DragEvent(kind, { dataTransfer: transfer, bubbles: true, cancelable: true }),
          );
      },
      { name, type, base64: bytes.toString('base64') },
    );
  }

  async screenshot(name: string): Promise<string> {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    const file = path.join(SCREENSHOTS, `${name}.png`);
    // Let fades and lazy thumbnails settle so screenshots are stable.
    await this.page.waitForLoadState('networkidle').catch(() => undefined);
    // Park the mouse on the status bar so no hover state shows.
    const size = this.page.viewportSize();
    if (size) await this.page.mouse.move(size.width / 2, size.height - 8);
    await this.page.waitForTimeout(400);
    await this.page.screenshot({ path: file });
    return file;
  }
}
