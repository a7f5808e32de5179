import { dot } from '../index/vector-math';
import type { QueryContext } from './search';
import type { DuplicateGroup } from './types';
import { UnionFind } from './union-find';

const NEIGHBOURS = 10;
const yieldNow = () => new Promise<void>((r) => setImmediate(r));

/**
 * Groups near-duplicates: every pair with cosine ≥ threshold is linked (k-NN over the index, or all
 * pairs in memory while search is exact) and the groups are the connected components.
 */
export async function findDuplicates(ctx: QueryContext, threshold: number): Promise<DuplicateGroup[]> {
  const version = ctx.headVersion();
  const uf = new UnionFind();
  const ids: number[] = [];
  const vectors: Float32Array[] = [];
  for (const page of ctx.store.embeddingPages(version, 4096)) {
    ids.push(...page.ids);
    vectors.push(...page.vectors);
  }
  if (ctx.index.exact) {
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++)
        if (dot(vectors[i], vectors[j]) >= threshold) uf.union(ids[i], ids[j]);
      if (i % 256 === 255) await yieldNow();
    }
  } else {
    for (let i = 0; i < ids.length; i++) {
      for (const h of ctx.index.search(vectors[i], NEIGHBOURS + 1))
        if (h.id !== ids[i] && h.score >= threshold) uf.union(ids[i], h.id);
      if (i % 256 === 255) await yieldNow();
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
