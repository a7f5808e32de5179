/**
 * The gallery's window onto a long list of photos: fetched page by page as rows scroll into view, so a
 * 100,000-photo library costs only the pages the user actually looks at. `refresh()` keeps showing the old
 * pages until their replacements arrive, so the grid does not blink when the library changes.
 */
import type { Page, PhotoSummary } from './api-client';

export type FetchPage = (offset: number, limit: number) => Promise<Page<PhotoSummary>>;
/** The ids of `limit` items from `offset`, in the same order as FetchPage. */
export type FetchIds = (offset: number, limit: number) => Promise<number[]>;

export class PhotoPages {
  total = 0;
  loaded = false;
  private pages = new Map<number, PhotoSummary[]>();
  private stale = new Map<number, PhotoSummary[]>();
  private inFlight = new Map<number, Promise<void>>();
  private generation = 0;

  constructor(
    private readonly fetchPage: FetchPage,
    readonly pageSize = 240,
  ) {}

  get(index: number): PhotoSummary | undefined {
    const page = Math.floor(index / this.pageSize);
    const offset = index - page * this.pageSize;
    return (this.pages.get(page) ?? this.stale.get(page))?.[offset];
  }

  /** Loads the pages covering items [from, to]; resolves true when anything new arrived. */
  async ensure(from: number, to: number): Promise<boolean> {
    const first = Math.max(0, Math.floor(from / this.pageSize));
    const last = Math.max(first, Math.floor(Math.max(from, to) / this.pageSize));
    const waits: Promise<void>[] = [];
    for (let page = first; page <= last; page++) {
      if (this.pages.has(page)) continue;
      // Page 0 is always worth asking for: it reports the total, which may have grown since (an empty
      // library filling during its first indexing).
      if (this.loaded && page > 0 && page * this.pageSize >= this.total) continue;
      let pending = this.inFlight.get(page);
      if (!pending) {
        const generation = this.generation;
        pending = this.fetchPage(page * this.pageSize, this.pageSize)
          .then((result) => {
            if (generation !== this.generation) return;
            this.total = result.total;
            this.loaded = true;
            this.pages.set(page, result.items);
            this.stale.delete(page);
          })
          .finally(() => {
            if (this.inFlight.get(page) === pending) this.inFlight.delete(page);
          });
        this.inFlight.set(page, pending);
      }
      waits.push(pending);
    }
    if (waits.length === 0) return false;
    await Promise.all(waits);
    return true;
  }

  /** Forget what was loaded (the library changed); old pages stay visible until replaced. */
  refresh(): void {
    this.generation++;
    for (const [page, items] of this.pages) this.stale.set(page, items);
    this.pages.clear();
    this.inFlight.clear();
  }

  /**
   * Ids of the items in [from, to], for range selection and Ctrl-A. Loaded pages answer at once; a range
   * that reaches into pages not loaded asks `fetchIds` for the whole range instead (ids only, cheap),
   * so a selection never silently stops at what happened to be scrolled into view.
   */
  async idsBetween(from: number, to: number, fetchIds: FetchIds): Promise<number[]> {
    const lo = Math.max(0, Math.min(from, to));
    const hi = Math.min(this.total - 1, Math.max(from, to));
    const ids: number[] = [];
    for (let i = lo; i <= hi; i++) {
      const photo = this.get(i);
      if (!photo) return fetchIds(lo, hi - lo + 1);
      ids.push(photo.id);
    }
    return ids;
  }
}
