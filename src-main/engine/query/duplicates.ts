import fs from 'node:fs';
import { copyScore } from '../decode/fingerprint';
import { dot, l2normalize } from '../index/vector-math';
import { spawnModuleWorker } from '../runtime/module-worker';
import type { PhotoRow } from '../store/types';
import { DEFAULT_COPY_THRESHOLD, NEAR_DUPLICATE_COSINE } from './duplicate-defaults';
import { orderGroup, type ScannedGroup } from './duplicate-scan';
import type { QueryContext } from './search';
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
const COPY_CANDIDATE_COSINE = 0.4;
/** A photo is pixel-compared with at most this many others (its best raw SPoC matches). */
const COPY_CANDIDATES_PER_PHOTO = 8;
/**
 * Copy scores of fingerprint pairs already compared, keyed by the fingerprints' content (so an edited
 * photo is compared afresh): moving the slider re-groups without re-comparing pixels.
 */
const scoreCache = new Map<string, number>();
const SCORE_CACHE_MAX = 500_000;

/** 64 bits of content key (two FNV-1a passes with different bases). */
function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  let g = 0x050c5d1f;
  for (const b of bytes) {
    h = Math.imul(h ^ b, 0x01000193);
    g = Math.imul(g ^ b, 0x01000193);
  }
  return `${(h >>> 0).toString(36)}.${(g >>> 0).toString(36)}`;
}

function cachedCopyScore(a: Uint8Array, b: Uint8Array, ka: string, kb: string): number {
  const key = ka < kb ? `${ka}:${kb}` : `${kb}:${ka}`;
  let s = scoreCache.get(key);
  if (s === undefined) {
    if (scoreCache.size >= SCORE_CACHE_MAX) scoreCache.clear();
    s = copyScore(a, b);
    scoreCache.set(key, s);
  }
  return s;
}

const yieldNow = () => new Promise<void>((r) => setImmediate(r));

/** Photos read between yields: at 100k photos one read of them all holds the engine's thread for seconds. */
const READ_SLICE = 128;

/** A by-id read done in slices, yielding between them, so queries queued meanwhile are answered. */
async function readInSlices<V>(
  ids: number[],
  read: (slice: number[]) => Map<number, V>,
): Promise<Map<number, V>> {
  const out = new Map<number, V>();
  for (let i = 0; i < ids.length; i += READ_SLICE) {
    for (const [k, v] of read(ids.slice(i, i + READ_SLICE))) out.set(k, v);
    if (i + READ_SLICE < ids.length) await yieldNow();
  }
  return out;
}

export interface DuplicateOptions {
  /** copy score at or above which two photos are copies */
  threshold?: number;
  /** computes (and stores) the fingerprint of a photo indexed before fingerprints existed */
  fingerprintOf?: (photo: PhotoRow) => Promise<Uint8Array | undefined>;
}

/**
 * Groups copies and near-duplicates. Copies (one photo re-encoded, resized, cropped, re-toned or framed)
 * are linked by the copy score; near-duplicates (other shots of the same moment) by the similarity
 * embedding. A group's photos that are copies of another carry `copyOf` (the copy to keep: the one with
 * the most pixels); the others are never proposed for removal.
 *
 * Candidates come from the similarity embedding: groups linked at cosine ≥ COPY_CANDIDATE_COSINE, found on
 * the graph's base-layer edges in a worker (duplicate-scan.ts; never all pairs of a large library, and
 * during a head switch the old graph keeps answering), or among all pairs of a library too small for a
 * graph. Within a group, pairs at cosine ≥ NEAR_DUPLICATE_COSINE are near-duplicates, and each photo's
 * best raw SPoC matches are compared pixel by pixel (fingerprint.ts).
 */
export async function findDuplicates(
  ctx: QueryContext,
  opts: DuplicateOptions = {},
): Promise<DuplicateGroup[]> {
  const threshold = opts.threshold ?? DEFAULT_COPY_THRESHOLD;
  const { groups: scanned, headVersion } = await nearGroups(ctx, COPY_CANDIDATE_COSINE);
  const ids = [...new Set(scanned.flatMap((g) => g.ids))];
  const pos = new Map(ids.map((id, i) => [id, i]));
  // Read in slices (READ_SLICE), yielding between them.
  const vectors: Float32Array[] = [];
  const spoc: (Float32Array | undefined)[] = [];
  for (let k = 0; k < ids.length; k++) {
    vectors.push(ctx.store.getEmbedding(ids[k], headVersion) ?? new Float32Array(0));
    const p = ctx.store.getPooled(ids[k]);
    spoc.push(p ? l2normalize(Float32Array.from(p.pooled.S)) : undefined);
    if (k % READ_SLICE === READ_SLICE - 1) await yieldNow();
  }
  const spocOf = (i: number, j: number) => (spoc[i] && spoc[j] ? dot(spoc[i], spoc[j]) : -1);

  // Within each scanned group: near-duplicate links (similar enough), copy candidates (raw SPoC agrees).
  const near = new Map<number, Set<number>>();
  const link = (i: number, j: number) => {
    const [a, b] = i < j ? [i, j] : [j, i];
    let s = near.get(a);
    if (!s) near.set(a, (s = new Set()));
    s.add(b);
  };
  // Each photo's best few SPoC matches: the pixel check costs about a millisecond a pair, and raw SPoC
  // passes many unrelated pairs in a big group, so at most COPY_CANDIDATES_PER_PHOTO pairs per photo.
  const best = new Map<number, { j: number; s: number }[]>();
  const offer = (i: number, j: number, s: number) => {
    let list = best.get(i);
    if (!list) best.set(i, (list = []));
    if (list.length < COPY_CANDIDATES_PER_PHOTO) list.push({ j, s });
    else if (s > list[list.length - 1].s) list[list.length - 1] = { j, s };
    else return;
    list.sort((x, y) => y.s - x.s);
  };
  let pairs = 0;
  for (const g of scanned) {
    const members = g.ids.map((id) => pos.get(id)!);
    for (let a = 0; a < members.length; a++) {
      for (let b = a + 1; b < members.length; b++) {
        const [i, j] = members[a] < members[b] ? [members[a], members[b]] : [members[b], members[a]];
        if (dot(vectors[i], vectors[j]) >= NEAR_DUPLICATE_COSINE) link(i, j);
        const s = spocOf(i, j);
        if (s >= CANDIDATE_SPOC) {
          offer(i, j, s);
          offer(j, i, s);
        }
        if (++pairs % 4096 === 0) await yieldNow();
      }
    }
  }
  const candidateKeys = new Set<string>();
  const copyCandidates: [number, number][] = [];
  for (const [i, list] of best)
    for (const { j } of list) {
      const [a, b] = i < j ? [i, j] : [j, i];
      if (candidateKeys.has(`${a}:${b}`)) continue;
      candidateKeys.add(`${a}:${b}`);
      copyCandidates.push([a, b]);
    }

  // Copy edges: the pixel check on candidates.
  const involved = [...new Set(copyCandidates.flat())].map((i) => ids[i]);
  const prints = await readInSlices(involved, (slice) => ctx.store.fingerprints(slice));
  const rows = await readInSlices(involved, (slice) => ctx.store.photosByIds(slice));
  if (opts.fingerprintOf)
    for (const id of involved)
      if (!prints.has(id) && rows.has(id)) {
        const f = await opts.fingerprintOf(rows.get(id)!);
        if (f) prints.set(id, f);
      }
  const printKey = new Map([...prints].map(([id, f]) => [id, fnv1a(f)]));
  const copyUf = new UnionFind();
  const copyPairs = new Map<string, number>();
  let done = 0;
  for (const [i, j] of copyCandidates) {
    const fa = prints.get(ids[i]);
    const fb = prints.get(ids[j]);
    if (fa && fb) {
      const s = cachedCopyScore(fa, fb, printKey.get(ids[i])!, printKey.get(ids[j])!);
      if (s >= threshold) {
        copyUf.union(ids[i], ids[j]);
        copyPairs.set(`${ids[i]}:${ids[j]}`, s);
        link(i, j);
      }
    }
    if (++done % 8 === 0) await yieldNow(); // a full alignment search takes up to a few ms
  }

  const uf = new UnionFind();
  for (const [a, bs] of near) for (const b of bs) uf.union(ids[a], ids[b]);
  const groups = uf.groups();
  const photoRows = await readInSlices(groups.flat(), (slice) => ctx.store.photosByIds(slice));
  const copyRoot = (id: number) => copyUf.find(id);
  const pixels = (id: number) => (photoRows.get(id)!.width ?? 0) * (photoRows.get(id)!.height ?? 0);
  const pairScore = (a: number, b: number) => copyPairs.get(a < b ? `${a}:${b}` : `${b}:${a}`);

  return groups
    .map((g): DuplicateGroup => {
      // The copy to keep in each cluster of copies: the most pixels, then the biggest file, then the oldest.
      const keeper = new Map<number, number>();
      const better = (a: number, b: number) =>
        pixels(a) - pixels(b) || photoRows.get(a)!.size - photoRows.get(b)!.size || b - a;
      for (const id of g) {
        const root = copyRoot(id);
        const k = keeper.get(root);
        if (k === undefined || better(id, k) > 0) keeper.set(root, id);
      }
      const copyOf = (id: number) => {
        const k = keeper.get(copyRoot(id))!;
        return k === id ? null : k;
      };
      const clusters = new Set(g.map(copyRoot)).size;
      if (clusters === 1) {
        // All one photo: scores are copy scores against the kept copy (direct, else via the chain).
        const k = keeper.get(copyRoot(g[0]))!;
        const fk = prints.get(k);
        const photos: DuplicatePhoto[] = g.map((id) => {
          const direct =
            id === k
              ? 1
              : (pairScore(id, k) ?? (fk && prints.get(id) ? copyScore(fk, prints.get(id)!) : threshold));
          return { photo: photoRows.get(id)!, score: direct, copyOf: copyOf(id) };
        });
        photos.sort((a, b) => b.score - a.score || a.photo.id - b.photo.id);
        return { kind: 'copies', score: Math.min(...photos.map((p) => p.score)), photos };
      }
      // Near-duplicates: lead with the photo most similar to the rest; scores are embedding similarities.
      const centrality = (a: number) =>
        g.reduce((s, b) => s + dot(vectors[pos.get(a)!], vectors[pos.get(b)!]), 0);
      const lead = [...g].sort((a, b) => centrality(b) - centrality(a) || a - b)[0];
      const lv = vectors[pos.get(lead)!];
      const photos: DuplicatePhoto[] = g.map((id) => ({
        photo: photoRows.get(id)!,
        score: id === lead ? 1 : dot(lv, vectors[pos.get(id)!]),
        copyOf: copyOf(id),
      }));
      photos.sort((a, b) => b.score - a.score || a.photo.id - b.photo.id);
      return {
        kind: 'near-duplicates',
        score: Math.min(...photos.map((p) => p.score)),
        photos,
      };
    })
    .sort(
      (a, b) => (a.kind === b.kind ? 0 : a.kind === 'copies' ? -1 : 1) || b.photos.length - a.photos.length,
    );
}

/** Groups of photos linked by embedding cosine ≥ threshold, and the head version they were scanned with. */
async function nearGroups(
  ctx: QueryContext,
  threshold: number,
): Promise<{ groups: ScannedGroup[]; headVersion: number }> {
  if (ctx.index.exact && ctx.index.size >= ctx.index.options.exactBelow) await ctx.index.whenReady();
  const view = ctx.index.view();
  if (!view.approximate)
    return { groups: await allPairs(ctx, view.headVersion, threshold), headVersion: view.headVersion };
  const file = await view.snapshot();
  try {
    return { groups: await scanInWorker(file, ctx.index.dim, threshold), headVersion: view.headVersion };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

function scanInWorker(file: string, dim: number, threshold: number): Promise<ScannedGroup[]> {
  return new Promise((resolve, reject) => {
    const worker = spawnModuleWorker(import.meta.url, './duplicates.worker', { file, dim, threshold });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
      void worker.terminate();
    };
    worker.on('message', (m: { ok?: ScannedGroup[]; error?: string }) =>
      settle(() => (m.ok ? resolve(m.ok) : reject(new Error(`duplicate scan failed: ${m.error}`)))),
    );
    worker.on('error', (e) =>
      settle(() => reject(new Error(`the duplicate scan worker crashed: ${e.message}`))),
    );
    worker.on('exit', (code) =>
      settle(() => reject(new Error(`the duplicate scan worker stopped (exit code ${code})`))),
    );
  });
}

/** A small library searched exactly (no graph yet): every pair, in memory. */
async function allPairs(ctx: QueryContext, version: number, threshold: number): Promise<ScannedGroup[]> {
  const uf = new UnionFind();
  const ids: number[] = [];
  const vectors: Float32Array[] = [];
  for (const page of ctx.store.embeddingPages(version, 4096)) {
    ids.push(...page.ids);
    vectors.push(...page.vectors);
  }
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) if (dot(vectors[i], vectors[j]) >= threshold) uf.union(i, j);
    if (i % 256 === 255) await yieldNow();
  }
  return uf.groups().map((g) =>
    orderGroup(
      g,
      (i) => vectors[i],
      (i) => ids[i],
    ),
  );
}
