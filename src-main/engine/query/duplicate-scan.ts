import type { HnswBaseLayer } from '../index/hnsw-file';
import { dot } from '../index/vector-math';
import { UnionFind } from './union-find';

/** Groups of photos linked at cosine ≥ the scan's threshold, and the grouped photos' vectors. */
export interface Scan {
  /** photo ids, in groups of two or more */
  groups: number[][];
  /** the embedding a grouped photo was scanned with */
  vector(id: number): Float32Array;
}

function scanOf(groups: number[][], vector: (m: number) => Float32Array, label: (m: number) => number): Scan {
  const byId = new Map<number, Float32Array>();
  for (const g of groups) for (const m of g) byId.set(label(m), vector(m));
  return { groups: groups.map((g) => g.map(label)), vector: (id) => byId.get(id)! };
}

/**
 * Links every base-layer edge whose cosine is ≥ threshold and returns the connected components. Each
 * photo's near-duplicates are among its graph neighbours: a pair at cosine ≥ 0.9 is each other's nearest
 * neighbours by a wide margin, and the graph's neighbour selection always keeps the nearest.
 */
export function scanDuplicates(g: HnswBaseLayer, threshold: number): Scan {
  const uf = new UnionFind();
  for (let i = 0; i < g.count; i++) {
    if (g.deleted(i)) continue;
    const v = g.vector(i);
    for (const j of g.neighbours(i)) {
      if (j <= i && g.neighbours(j).includes(i)) continue; // each mutual edge once
      if (g.deleted(j) || dot(v, g.vector(j)) < threshold) continue;
      uf.union(i, j);
    }
  }
  return scanOf(uf.groups(), g.vector, g.label);
}

/** The same over every pair: for a library too small to have a graph (below the index's exactBelow). */
export function scanAllPairs(
  pages: Iterable<{ ids: number[]; vectors: Float32Array[] }>,
  threshold: number,
): Scan {
  const ids: number[] = [];
  const vectors: Float32Array[] = [];
  for (const page of pages) {
    ids.push(...page.ids);
    vectors.push(...page.vectors);
  }
  const uf = new UnionFind();
  for (let i = 0; i < ids.length; i++)
    for (let j = i + 1; j < ids.length; j++) if (dot(vectors[i], vectors[j]) >= threshold) uf.union(i, j);
  return scanOf(
    uf.groups(),
    (i) => vectors[i],
    (i) => ids[i],
  );
}
