/**
 * Hubness of a served library (Radovanović et al. 2010): N_k(x) counts the photos whose top k by `similar`
 * contain x. In a space with hubs a few photos turn up in many unrelated photos' results (their N_k is
 * large) while many never turn up; the skewness of N_k's distribution measures it (0 for none; text and
 * image embeddings often show 1–5).
 */
export interface Hubness {
  k: number;
  /** skewness of N_k over the library's photos */
  skew: number;
  /** the largest N_k, and as a multiple of k (the mean) */
  maxOccurrence: number;
  /** share of photos in nobody's top k, % */
  neverListed: number;
}

export async function hubness(
  photos: number[],
  similar: (photo: number, k: number) => Promise<number[]>,
  k = 10,
): Promise<Hubness> {
  const count = new Map(photos.map((p) => [p, 0]));
  for (const p of photos) for (const q of await similar(p, k)) count.set(q, (count.get(q) ?? 0) + 1);
  const n = [...count.values()];
  const mean = n.reduce((a, b) => a + b, 0) / n.length;
  const m2 = n.reduce((a, b) => a + (b - mean) ** 2, 0) / n.length;
  const m3 = n.reduce((a, b) => a + (b - mean) ** 3, 0) / n.length;
  return {
    k,
    skew: Number((m3 / m2 ** 1.5).toFixed(3)),
    maxOccurrence: Math.max(...n),
    neverListed: Number(((100 * n.filter((x) => x === 0).length) / n.length).toFixed(1)),
  };
}
