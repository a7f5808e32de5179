/** The virtualised gallery grid and its selection. */
import type { Locator, Page } from 'playwright-core';

export class GalleryPage {
  constructor(readonly page: Page) {}

  get grid(): Locator {
    return this.page.getByTestId('photo-grid');
  }

  cells(): Locator {
    return this.page.locator('[data-testid=grid-cell][data-photo-id]');
  }

  async total(): Promise<number> {
    return Number(await this.grid.getAttribute('data-total'));
  }

  async waitForPhotos(min = 1, timeout = 30_000): Promise<void> {
    await this.page.waitForFunction(
      (min) => Number(document.querySelector('[data-testid=photo-grid]')?.getAttribute('data-total')) >= min,
      min,
      { timeout },
    );
    await this.cells().first().waitFor();
  }

  /** Waits until the thumbnails in view have loaded (for screenshots). */
  async waitForThumbnails(): Promise<void> {
    await this.page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>('[data-testid=grid-cell] img')].every(
        (img) => img.complete,
      ),
    );
  }

  async sortBy(sort: 'taken' | 'folder' | 'added'): Promise<void> {
    await this.page.getByTestId('sort').selectOption(sort);
  }

  async photoId(index: number): Promise<number> {
    return Number(await this.cells().nth(index).getAttribute('data-photo-id'));
  }

  async open(index: number): Promise<number> {
    const id = await this.photoId(index);
    await this.cells().nth(index).click();
    return id;
  }

  /** Ctrl-click each cell: multi-select without opening. */
  async select(indices: number[]): Promise<number[]> {
    const ids: number[] = [];
    for (const i of indices) {
      ids.push(await this.photoId(i));
      await this.cells()
        .nth(i)
        .click({ modifiers: ['Control'] });
    }
    return ids;
  }

  async selectionCount(): Promise<string> {
    return this.page.getByTestId('selection-count').innerText();
  }
}
