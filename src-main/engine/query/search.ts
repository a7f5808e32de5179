import type { AnnIndex } from '../index/ann-index';
import { dot, l2normalize, type Neighbor } from '../index/vector-math';
import type { Store } from '../store/store';
import type { SearchHit, SearchOptions } from './types';

export const DEFAULT_K = 50;
const QE_N = 5;
const QE_ALPHA = 3;

export interface QueryContext {
  store: Store;
  index: AnnIndex;
  headVersion: () => number;
}

/** Builds the id filter for folder/date options (undefined = everything). */
export function filterFor(
  store: Store,
  o: SearchOptions,
  exclude?: Set<number>,
): ((id: number) => boolean) | undefined {
  const folders = [...(o.folderIds ?? []), ...(o.folderId !== undefined ? [o.folderId] : [])];
  const allowed =
    folders.length || o.from !== undefined || o.to !== undefined
      ? store.idsMatching({ folderIds: folders, from: o.from, to: o.to })
      : null;
  const away = o.excludeFolderIds?.length ? store.idsInFolders(o.excludeFolderIds) : null;
  if (!allowed && !exclude?.size && !away?.size) return undefined;
  return (id) => (!allowed || allowed.has(id)) && !exclude?.has(id) && !away?.has(id);
}

/** αQE (Radenović et al.): q' = norm(q + Σ sᵢ^α vᵢ) over the top n hits. */
export function expandQuery(
  ctx: QueryContext,
  query: Float32Array,
  hits: Neighbor[],
  n = QE_N,
  alpha = QE_ALPHA,
): Float32Array {
  const q = Float32Array.from(query);
  for (const h of hits.slice(0, n)) {
    const v = ctx.store.getEmbedding(h.id, ctx.headVersion());
    if (!v) continue;
    const w = Math.max(h.score, 0) ** alpha;
    for (let i = 0; i < q.length; i++) q[i] += w * v[i];
  }
  return l2normalize(q);
}

/**
 * Nearest photos to an embedding, best first (by the expanded query with αQE), each with its cosine
 * similarity to the original query.
 */
export function searchByVector(
  ctx: QueryContext,
  query: Float32Array,
  o: SearchOptions = {},
  exclude?: Set<number>,
): SearchHit[] {
  const k = o.k ?? DEFAULT_K;
  const accept = filterFor(ctx.store, o, exclude);
  let hits = ctx.index.search(query, k, accept);
  if (o.expand) {
    const { n = QE_N, alpha = QE_ALPHA } = typeof o.expand === 'object' ? o.expand : {};
    const q2 = expandQuery(ctx, query, hits, n, alpha);
    // The expanded query's order is the point of αQE (re-sorting by the original query would undo it);
    // the score shown stays the similarity to what the user asked for.
    hits = ctx.index.search(q2, k, accept).map((h) => {
      const v = ctx.store.getEmbedding(h.id, ctx.headVersion());
      return { id: h.id, score: v ? dot(query, v) : h.score };
    });
  }
  if (o.threshold !== undefined) hits = hits.filter((h) => h.score >= o.threshold!);
  const rows = ctx.store.photosByIds(hits.map((h) => h.id));
  return hits.filter((h) => rows.has(h.id)).map((h) => ({ photo: rows.get(h.id)!, score: h.score }));
}
