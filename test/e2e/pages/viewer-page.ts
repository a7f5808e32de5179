/** The large view of one photo: details, similar results with scores, region search. */
import type { Locator, Page } from 'playwright-core';

export interface Result {
  photoId: number;
  name: string;
  score: number;
}

export class ViewerPage {
  constructor(readonly page: Page) {}

  get root(): Locator {
    return this.page.getByTestId('photo-viewer');
  }

  async photoId(): Promise<number> {
    return Number(await this.root.getAttribute('data-photo-id'));
  }

  /** Results as shown (above the threshold), waiting for at least `min`. */
  async results(min = 1, timeout = 20_000): Promise<Result[]> {
    const items = this.root.getByTestId('result');
    await this.page.waitForFunction(
      (min) => document.querySelectorAll('[data-testid=photo-viewer] [data-testid=result]').length >= min,
      min,
      { timeout },
    );
    return readResults(items);
  }

  async setThreshold(value: number): Promise<void> {
    await this.root.getByTestId('threshold').fill(String(value));
  }

  /** Turns on region mode and drags a box given in fractions of the photo. */
  async drawRegion(x0: number, y0: number, x1: number, y1: number): Promise<void> {
    await this.root.getByTestId('region-mode').click();
    const frame = this.root.getByTestId('viewer-frame');
    const box = (await frame.boundingBox())!;
    const at = (fx: number, fy: number) => [box.x + fx * box.width, box.y + fy * box.height] as const;
    await this.page.mouse.move(...at(x0, y0));
    await this.page.mouse.down();
    await this.page.mouse.move(...at((x0 + x1) / 2, (y0 + y1) / 2), { steps: 4 });
    await this.page.mouse.move(...at(x1, y1), { steps: 4 });
    await this.page.mouse.up();
  }

  get regionBox(): Locator {
    return this.root.getByTestId('region-box');
  }

  get problem(): Locator {
    return this.root.getByTestId('similar-problem');
  }

  async close(): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.root.waitFor({ state: 'detached' });
  }
}

export async function readResults(items: Locator): Promise<Result[]> {
  return items.evaluateAll((els) =>
    els.map((el) => ({
      photoId: Number(el.getAttribute('data-photo-id')),
      name: el.getAttribute('title') ?? '',
      score: Number(el.getAttribute('data-score')),
    })),
  );
}
