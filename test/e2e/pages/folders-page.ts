/** First run and the Folders view: add a folder by path (browser mode) and follow indexing. */
import type { Page } from 'playwright-core';

export class FoldersPage {
  constructor(readonly page: Page) {}

  get emptyState() {
    return this.page.getByTestId('empty-state');
  }

  async addFolder(folder: string): Promise<void> {
    await this.page.getByTestId('folder-path').fill(folder);
    await this.page.getByTestId('add-folder').click();
  }

  /** The progress bar appears in the status bar while indexing runs. */
  get progress() {
    return this.page.getByTestId('indexing-progress');
  }

  /** Waits until indexing has started and finished, as the UI shows it. */
  async waitForIndexing(timeout: number): Promise<void> {
    await this.page.waitForFunction(
      () =>
        !document.querySelector('[data-testid=indexing-progress]') &&
        /All photos indexed|could not be read/.test(
          document.querySelector('[data-testid=status-bar]')?.textContent ?? '',
        ),
      undefined,
      { timeout, polling: 250 },
    );
  }

  async failures(): Promise<string[]> {
    const list = this.page.getByTestId('failures');
    await list.or(this.page.getByTestId('no-failures')).waitFor();
    if (!(await list.count())) return [];
    return list.locator('li').allInnerTexts();
  }
}
