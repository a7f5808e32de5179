import type { HnswBaseLayer } from '../index/hnsw-file';
import { dot } from '../index/vector-math';
import { UnionFind } from './union-find';

/** A group of near-duplicates: photo ids best-connected first, each with its similarity to the first. */
export interface ScannedGroup {
  ids: number[];
  scores: number[];
}

/**
 * Links every base-layer edge whose cosine is ≥ threshold and returns the connected components. Each
 * photo's near-duplicates are among its graph neighbours: a pair at cosine ≥ 0.9 is each other's nearest
 * neighbours by a wide margin, and the graph's neighbour selection always keeps the nearest.
 */
export function scanDuplicates(g: HnswBaseLayer, threshold: number): ScannedGroup[] {
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
  return uf.groups().map((members) => orderGroup(members, g.vector, g.label));
}

/** Orders a group: the photo most similar to the rest first, then by similarity to it. */
export function orderGroup(
  members: number[],
  vector: (m: number) => Float32Array,
  label: (m: number) => number,
): ScannedGroup {
  // Σ_b a·b = a·(Σ_b b): centrality in time linear in the group's size.
  const sum = new Float32Array(vector(members[0]).length);
  for (const m of members) {
    const v = vector(m);
    for (let d = 0; d < sum.length; d++) sum[d] += v[d];
  }
  const centrality = new Map(members.map((m) => [m, dot(vector(m), sum)]));
  const sorted = [...members].sort((a, b) => centrality.get(b)! - centrality.get(a)! || label(a) - label(b));
  const lead = vector(sorted[0]);
  const scored = sorted.map((m) => ({ id: label(m), score: dot(lead, vector(m)) }));
  scored.sort((a, b) => b.score - a.score);
  return { ids: scored.map((x) => x.id), scores: scored.map((x) => x.score) };
}
