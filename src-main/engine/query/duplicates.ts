import { dot } from '../index/vector-math';
import type { QueryContext } from './search';
import type { DuplicateGroup } from './types';
import { UnionFind } from './union-find';

const NEIGHBOURS = 10;
/**
 * Search beam for the duplicate scan: pairs at cosine ≥ 0.9 are each other's nearest neighbours by a
 * wide margin, which a narrow beam finds; the scan runs one search per photo, so the beam sets its time.
 */
const DUPLICATE_EF = 24;
const yieldNow = () => new Promise<void>((r) => setImmediate(r));

/**
 * Groups near-duplicates: every pair with cosine ≥ threshold is linked (k-NN over the HNSW graph) and the
 * groups are the connected components. Only a library too small for a graph compares all pairs; while a
 * large library's first graph is being built, the scan waits for it (a head switch keeps the old graph
 * answering, and the scan keeps the graph and head version it started with).
 */
export async function findDuplicates(ctx: QueryContext, threshold: number): Promise<DuplicateGroup[]> {
  if (ctx.index.exact && ctx.index.size >= ctx.index.options.exactBelow) await ctx.index.whenReady();
  const view = ctx.index.view();
  const version = view.headVersion;
  const uf = new UnionFind();
  const ids: number[] = [];
  const vectors: Float32Array[] = [];
  let after = 0;
  for (;;) {
    const chunk = ctx.store.embeddingChunk(version, after, 4096);
    ids.push(...chunk.ids);
    vectors.push(...chunk.vectors);
    if (chunk.ids.length < 4096) break;
    after = chunk.ids[chunk.ids.length - 1];
    await yieldNow();
  }
  if (!view.approximate) {
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++)
        if (dot(vectors[i], vectors[j]) >= threshold) uf.union(ids[i], ids[j]);
      if (i % 256 === 255) await yieldNow();
    }
  } else {
    let slice = performance.now();
    for (let i = 0; i < ids.length; i++) {
      for (const h of view.search(vectors[i], NEIGHBOURS + 1, undefined, DUPLICATE_EF))
        if (h.id !== ids[i] && h.score >= threshold) uf.union(ids[i], h.id);
      if (performance.now() - slice > 8) {
        await yieldNow();
        slice = performance.now();
      }
    }
  }
  const pos = new Map(ids.map((id, i) => [id, i]));
  const groups = uf.groups();
  const rows = ctx.store.photosByIds(groups.flat());
  return groups
    .map((g) => {
      // Lead with the photo most similar to the rest of its group.
      const centrality = (a: number) =>
        g.reduce((s, b) => s + dot(vectors[pos.get(a)!], vectors[pos.get(b)!]), 0);
      const sorted = [...g].sort((a, b) => centrality(b) - centrality(a) || a - b);
      const lead = vectors[pos.get(sorted[0])!];
      return {
        photos: sorted
          .map((id) => ({ photo: rows.get(id)!, score: dot(lead, vectors[pos.get(id)!]) }))
          .sort((a, b) => b.score - a.score),
      };
    })
    .sort((a, b) => b.photos.length - a.photos.length);
}
