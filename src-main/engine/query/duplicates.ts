import fs from 'node:fs';
import { dot } from '../index/vector-math';
import { spawnModuleWorker } from '../runtime/module-worker';
import { orderGroup, type ScannedGroup } from './duplicate-scan';
import type { QueryContext } from './search';
import type { DuplicateGroup } from './types';
import { UnionFind } from './union-find';

const yieldNow = () => new Promise<void>((r) => setImmediate(r));

/**
 * Groups near-duplicates: every pair with cosine ≥ threshold is linked and the groups are the connected
 * components. With a graph, the pairs are its base-layer edges, scanned in a worker over a snapshot of
 * the graph (duplicate-scan.ts); only a library too small for a graph compares all pairs. While a large
 * library's first graph is being built, the scan waits for it; during a head switch the old graph keeps
 * answering (the view keeps the graph and head version the scan started with).
 */
export async function findDuplicates(ctx: QueryContext, threshold: number): Promise<DuplicateGroup[]> {
  if (ctx.index.exact && ctx.index.size >= ctx.index.options.exactBelow) await ctx.index.whenReady();
  const view = ctx.index.view();
  const dim = ctx.index.dim;
  let groups: ScannedGroup[];
  if (view.approximate) {
    const file = await view.snapshot();
    try {
      groups = await scanInWorker(file, dim, threshold);
    } finally {
      fs.rmSync(file, { force: true });
    }
  } else groups = await allPairs(ctx, view.headVersion, threshold);
  const rows = ctx.store.photosByIds(groups.flatMap((g) => g.ids));
  return groups
    .map((g) => ({
      photos: g.ids.flatMap((id, i) => {
        const photo = rows.get(id);
        return photo ? [{ photo, score: g.scores[i] }] : [];
      }),
    }))
    .filter((g) => g.photos.length > 1)
    .sort((a, b) => b.photos.length - a.photos.length);
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
