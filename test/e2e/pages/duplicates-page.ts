/** The duplicates view: groups, keep choices, trash with confirmation. */
import type { Locator, Page } from 'playwright-core';

export class DuplicatesPage {
  constructor(readonly page: Page) {}

  groups(): Locator {
    return this.page.getByTestId('duplicate-group');
  }

  async setThreshold(value: number): Promise<void> {
    await this.page.getByTestId('dup-threshold').fill(String(value));
  }

  /** Photo ids of each group, as shown. */
  async groupIds(): Promise<number[][]> {
    return this.groups().evaluateAll((groups) =>
      groups.map((g) =>
        [...g.querySelectorAll('figure')].map((f) => Number(f.getAttribute('data-photo-id'))),
      ),
    );
  }

  /** Each group of a kind as shown: photo ids, Keep (true) / Remove (false) per photo, the score text. */
  async groupStates(
    kind: 'copies' | 'near-duplicates',
  ): Promise<{ ids: number[]; keep: boolean[]; score: string }[]> {
    return this.page.locator(`[data-testid=duplicate-group][data-kind=${kind}]`).evaluateAll((groups) =>
      groups.map((g) => ({
        ids: [...g.querySelectorAll('figure')].map((f) => Number(f.getAttribute('data-photo-id'))),
        keep: [...g.querySelectorAll('[data-testid=keep]')].map(
          (b) => b.getAttribute('aria-pressed') === 'true',
        ),
        score: g.querySelector('[data-testid=group-score]')?.textContent?.trim() ?? '',
      })),
    );
  }

  async trashMarked(): Promise<void> {
    await this.page.getByTestId('trash-duplicates').click();
  }

  get dialog(): Locator {
    return this.page.getByTestId('confirm-dialog');
  }
}

/** File names of each group, as shown. */
export async function groupNames(page: Page): Promise<string[][]> {
  return page
    .getByTestId('duplicate-group')
    .evaluateAll((groups) =>
      groups.map((g) => [...g.querySelectorAll('figcaption .name')].map((n) => n.textContent?.trim() ?? '')),
    );
}
