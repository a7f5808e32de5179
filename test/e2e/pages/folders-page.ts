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
  /**
   * Waits until indexing has finished. With `minPhotos`, also until the library holds that many photos:
   * right after adding a folder the status bar can still say "All photos indexed" from before its scan.
   */
  async waitForIndexing(timeout: number, minPhotos = 0): Promise<void> {
    await this.page.waitForFunction(
      (minPhotos) =>
        !document.querySelector('[data-testid=indexing-progress]') &&
        /All photos indexed|could not be read/.test(
          document.querySelector('[data-testid=status-bar]')?.textContent ?? '',
        ) &&
        Number(document.querySelector('[data-testid=library-size]')?.getAttribute('data-photos')) >=
          minPhotos,
      minPhotos,
      { timeout, polling: 250 },
    );
  }

  /** The library's photo count, as the status bar shows it. */
  async photoCount(): Promise<number> {
    return Number(await this.page.getByTestId('library-size').getAttribute('data-photos'));
  }

  async failures(): Promise<string[]> {
    const list = this.page.getByTestId('failures');
    await list.or(this.page.getByTestId('no-failures')).waitFor();
    if (!(await list.count())) return [];
    return list.locator('li').allInnerTexts();
  }
}
