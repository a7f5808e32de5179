/** Search with an outside image: the results view. */
import type { Locator, Page } from 'playwright-core';
import { readResults, type Result } from './viewer-page';

export class QueryPage {
  constructor(readonly page: Page) {}

  get root(): Locator {
    return this.page.getByTestId('query-results');
  }

  async pickFile(file: string): Promise<void> {
    await this.page.getByTestId('query-file-input').setInputFiles(file);
  }

  async results(min = 1, timeout = 30_000): Promise<Result[]> {
    await this.page.waitForFunction(
      (min) => document.querySelectorAll('[data-testid=query-results] [data-testid=result]').length >= min,
      min,
      { timeout },
    );
    return readResults(this.root.getByTestId('result'));
  }
}
