import type { Store } from '../store/store';
import { dot, TopK, type Neighbor } from './vector-math';

const CHUNK = 2048;

/**
 * Brute-force cosine search over the embeddings in SQLite: exact, needs no index, used when the
 * library is small or while the HNSW index is being (re)built, so queries never wait.
 */
export function exactSearch(
  store: Store,
  headVersion: number,
  query: Float32Array,
  k: number,
  accept?: (id: number) => boolean,
): Neighbor[] {
  const top = new TopK(k);
  for (const { ids, vectors } of store.embeddingPages(headVersion, CHUNK)) {
    for (let i = 0; i < ids.length; i++) {
      if (accept && !accept(ids[i])) continue;
      top.push(ids[i], dot(query, vectors[i]));
    }
  }
  return top.items;
}
