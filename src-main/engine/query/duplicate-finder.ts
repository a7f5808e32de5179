/**
 * The duplicate finder's work over the library database, done in the duplicates worker
 * (duplicates.worker.ts) so that the engine's thread, which answers searches, only forwards the result.
 *
 * Candidates come from the similarity embedding: groups linked at cosine ≥ COPY_CANDIDATE_COSINE (scanned
 * on the graph's base-layer edges, or among all pairs of a library too small for a graph). Within a group,
 * pairs at cosine ≥ NEAR_DUPLICATE_COSINE are near-duplicates, and each photo's best raw SPoC matches are
 * compared pixel by pixel (fingerprint.ts).
 */
import { copyScore } from '../decode/fingerprint';
import { dot, l2normalize } from '../index/vector-math';
import type { Store } from '../store/store';
import { NEAR_DUPLICATE_COSINE } from './duplicate-defaults';
import type { Scan } from './duplicate-scan';
import type { DuplicateGroup, DuplicatePhoto } from './types';
import { UnionFind } from './union-find';

/**
 * Raw SPoC cosine under which two photos are never compared pixel by pixel: every planted copy scores
 * ≥ 0.955, while most unrelated pairs score < 0.9 (the pixel comparison costs milliseconds a pair).
 */
const CANDIDATE_SPOC = 0.95;
/**
 * Similarity-embedding cosine from which pairs are looked at as possible copies. Lower than the
 * near-duplicate link: whitening stretches the directions a re-toned or cropped copy moves along, so a
 * copy's head cosine can fall well under NEAR_DUPLICATE_COSINE while its raw SPoC stays ≥ 0.99.
 */
export const COPY_CANDIDATE_COSINE = 0.4;
/** A photo is pixel-compared with at most this many others (its best raw SPoC matches). */
const COPY_CANDIDATES_PER_PHOTO = 8;

/**
 * Copy scores of fingerprint pairs already compared, keyed by the fingerprints' content (so an edited
 * photo is compared afresh): moving the slider re-groups without re-comparing pixels. It lives as long as
 * the worker, i.e. the library.
 */
export class CopyScoreCache {
  private readonly scores = new Map<string, number>();
  /** each fingerprint read is hashed once, however many pairs it is in */
  private readonly keys = new WeakMap<Uint8Array, string>();

  constructor(private readonly max = 500_000) {}

  score(a: Uint8Array, b: Uint8Array): number {
    const [ka, kb] = [this.keyOf(a), this.keyOf(b)];
    const key = ka < kb ? `${ka}:${kb}` : `${kb}:${ka}`;
    let s = this.scores.get(key);
    if (s === undefined) {
      if (this.scores.size >= this.max) this.scores.clear();
      s = copyScore(a, b);
      this.scores.set(key, s);
    }
    return s;
  }

  private keyOf(f: Uint8Array): string {
    let k = this.keys.get(f);
    if (k === undefined) this.keys.set(f, (k = contentKey(f)));
    return k;
  }
}

/** 64 bits of content key (two FNV-1a passes with different bases). */
function contentKey(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  let g = 0x050c5d1f;
  for (const b of bytes) {
    h = Math.imul(h ^ b, 0x01000193);
    g = Math.imul(g ^ b, 0x01000193);
  }
  return `${(h >>> 0).toString(36)}.${(g >>> 0).toString(36)}`;
}

export interface FoundDuplicates {
  groups: DuplicateGroup[];
  /** candidates with no stored fingerprint (indexed before fingerprints existed) */
  missing: number[];
}

/** Each photo's best few SPoC matches: raw SPoC passes many unrelated pairs in a big group. */
class BestCandidates {
  private readonly best = new Map<number, { j: number; s: number }[]>();

  offer(i: number, j: number, s: number): void {
    let list = this.best.get(i);
    if (!list) this.best.set(i, (list = []));
    if (list.length < COPY_CANDIDATES_PER_PHOTO) list.push({ j, s });
    else if (s > list[list.length - 1].s) list[list.length - 1] = { j, s };
    else return;
    list.sort((x, y) => y.s - x.s);
  }

  /** Every kept pair once, as [a, b] with a < b. */
  pairs(): [number, number][] {
    const seen = new Set<string>();
    const out: [number, number][] = [];
    for (const [i, list] of this.best)
      for (const { j } of list) {
        const [a, b] = i < j ? [i, j] : [j, i];
        if (seen.has(`${a}:${b}`)) continue;
        seen.add(`${a}:${b}`);
        out.push([a, b]);
      }
    return out;
  }
}

/** Ids read per query. */
const READ_SLICE = 4096;

/** Each photo's raw SPoC, L2-normalised (absent where there is none). */
function spocVectors(store: Store, ids: number[]): Map<number, Float32Array> {
  const out = new Map<number, Float32Array>();
  for (let i = 0; i < ids.length; i += READ_SLICE)
    for (const [id, s] of store.pooledSpoc(ids.slice(i, i + READ_SLICE))) out.set(id, l2normalize(s));
  return out;
}

/** Groups copies and near-duplicates among the scanned groups (see the module comment). */
export function findDuplicateGroups(
  store: Store,
  scan: Scan,
  threshold: number,
  cache: CopyScoreCache,
): FoundDuplicates {
  const { vector } = scan;
  const spocs = spocVectors(store, scan.groups.flat());

  const near = new UnionFind();
  const candidates = new BestCandidates();
  for (const g of scan.groups) {
    const heads = g.map(vector);
    const raw = g.map((id) => spocs.get(id));
    for (let x = 0; x < g.length; x++)
      for (let y = x + 1; y < g.length; y++) {
        if (dot(heads[x], heads[y]) >= NEAR_DUPLICATE_COSINE) near.union(g[x], g[y]);
        const [rx, ry] = [raw[x], raw[y]];
        const s = rx && ry ? dot(rx, ry) : -1;
        if (s < CANDIDATE_SPOC) continue;
        candidates.offer(g[x], g[y], s);
        candidates.offer(g[y], g[x], s);
      }
  }

  // Copy edges: the pixel check on candidates.
  const pairs = candidates.pairs();
  const prints = store.fingerprints([...new Set(pairs.flat())]);
  const copies = new UnionFind();
  const copyPairs = new Map<string, number>();
  const missing = new Set<number>();
  for (const [a, b] of pairs) {
    const [fa, fb] = [prints.get(a), prints.get(b)];
    if (!fa) missing.add(a);
    if (!fb) missing.add(b);
    if (!fa || !fb) continue;
    const s = cache.score(fa, fb);
    if (s < threshold) continue;
    copies.union(a, b);
    copyPairs.set(`${a}:${b}`, s);
    near.union(a, b);
  }

  const groups = near.groups();
  const rows = store.photosByIds(groups.flat());
  const pixels = (id: number) => (rows.get(id)!.width ?? 0) * (rows.get(id)!.height ?? 0);
  const pairScore = (a: number, b: number) => copyPairs.get(a < b ? `${a}:${b}` : `${b}:${a}`);
  const present = groups.map((g) => g.filter((id) => rows.has(id))).filter((g) => g.length > 1);

  const out = present.map((g): DuplicateGroup => {
    // The copy to keep in each cluster of copies: the most pixels, then the biggest file, then the oldest.
    const keeper = new Map<number, number>();
    const better = (a: number, b: number) =>
      pixels(a) - pixels(b) || rows.get(a)!.size - rows.get(b)!.size || b - a;
    for (const id of g) {
      const root = copies.find(id);
      const k = keeper.get(root);
      if (k === undefined || better(id, k) > 0) keeper.set(root, id);
    }
    const copyOf = (id: number) => {
      const k = keeper.get(copies.find(id))!;
      return k === id ? null : k;
    };
    let photos: DuplicatePhoto[];
    let kind: DuplicateGroup['kind'];
    if (new Set(g.map((id) => copies.find(id))).size === 1) {
      // All one photo: scores are copy scores against the kept copy (direct, else via the chain).
      kind = 'copies';
      const k = keeper.get(copies.find(g[0]))!;
      const fk = prints.get(k);
      photos = g.map((id) => {
        const fi = prints.get(id);
        const direct = id === k ? 1 : (pairScore(id, k) ?? (fk && fi ? cache.score(fk, fi) : threshold));
        return { photo: rows.get(id)!, score: direct, copyOf: copyOf(id) };
      });
    } else {
      // Near-duplicates: lead with the photo most similar to the rest; scores are embedding similarities.
      kind = 'near-duplicates';
      const centrality = (a: number) => g.reduce((s, b) => s + dot(vector(a), vector(b)), 0);
      const lead = [...g].sort((a, b) => centrality(b) - centrality(a) || a - b)[0];
      photos = g.map((id) => ({
        photo: rows.get(id)!,
        score: id === lead ? 1 : dot(vector(lead), vector(id)),
        copyOf: copyOf(id),
      }));
    }
    photos.sort((a, b) => b.score - a.score || a.photo.id - b.photo.id);
    return { kind, score: Math.min(...photos.map((p) => p.score)), photos };
  });
  out.sort(
    (a, b) => (a.kind === b.kind ? 0 : a.kind === 'copies' ? -1 : 1) || b.photos.length - a.photos.length,
  );
  return { groups: out, missing: [...missing] };
}
