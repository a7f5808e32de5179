/** Albums: create from the sidebar, add the selection, open an album. */
import type { Page } from 'playwright-core';

export class AlbumsPage {
  constructor(readonly page: Page) {}

  async create(name: string): Promise<void> {
    await this.page.getByTestId('new-album').click();
    await this.page.getByTestId('new-album-name').fill(name);
    await this.page.getByTestId('new-album-name').press('Enter');
    await this.page.getByTestId(`album-${name}`).waitFor();
  }

  async open(name: string): Promise<void> {
    await this.page.getByTestId(`album-${name}`).click();
  }

  async addSelectionTo(name: string): Promise<void> {
    await this.page.getByTestId('add-to-album').click();
    await this.page.getByTestId(`add-to-${name}`).click();
  }

  /** The photo count shown beside the album in the sidebar. */
  async count(name: string): Promise<number> {
    const text = await this.page.getByTestId(`album-${name}`).locator('.count').innerText();
    return Number(text.replace(/\D/g, ''));
  }
}
