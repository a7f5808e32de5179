/**
 * Keyset paging over id-ordered rows: each page starts after the last id of the previous one, so a
 * long walk (re-projection, index build, exact search) never skips or repeats a row when others are
 * added or removed meanwhile, and each page costs the same however far in it is.
 */
export function* keysetPages<P extends { ids: number[] }>(
  pageSize: number,
  fetch: (afterId: number, limit: number) => P,
): Generator<P> {
  let after = 0;
  for (;;) {
    const page = fetch(after, pageSize);
    if (page.ids.length) yield page;
    if (page.ids.length < pageSize) return;
    after = page.ids[page.ids.length - 1];
  }
}
