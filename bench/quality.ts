/**
 * bench:quality — retrieval quality as the user gets it: a fresh library made with the engine API (the
 * calls the UI and the CLI make), the dataset's photos added as folders, indexed with the product's
 * head policy, and ranked with `similar`. Shared dataset formats:
 *   Holidays format (groundtruth.json) → mAP, R@1, R@10; last line `mAP=NN.NN`
 *   class format (labels.json)         → R@1/2/4/8, mAP@R; last line `R@1=NN.NN`
 *
 *   npm run bench:quality -- --dataset DIR [--sizes 50,100,200,300,535] [--steps 100,200,300,400,535]
 *       [--regions] [--no-cache] [--input-size N] [--precision fp32|int8] [--json FILE] [--ablation [--markdown FILE]]
 *
 * Default: all photos added at once, as one folder. --sizes: one fresh library per size (a seeded subset
 * that keeps Holidays' groups together); --steps: one library grown folder by folder to each size,
 * measured after each indexing run. --regions: region queries (bench/lib/regions.ts). The "ideal head"
 * line (whitening learned on the whole dataset, ranked in memory) is printed for reference only.
 * Backbone outputs are cached per file content (bench/lib/cached-embedder.ts); --no-cache runs the
 * embedder as it ships. --precision: the CPU backbone (default: int8 where built, as the app runs it).
 * --ablation: the in-memory head/model ablation of docs/model.md. The at-once library's hubness (skew of the
 * k-occurrence of `similar`'s top 10, bench/lib/hubness.ts) is printed and saved with it.
 */
import { setEnvValue } from '../src-main/engine/config';
import fs from 'node:fs';
import path from 'node:path';
import { createDefaultEmbedder } from '../src-main/engine/embed/default-embedder';
import type { PhotoEmbedder } from '../src-main/engine/embed/photo-embedder';
import type { HeadWeights, Pooled } from '../src-main/engine/head/head-types';
import { headOutDim } from '../src-main/engine/head/head-types';
import { projectBatch } from '../src-main/engine/head/project';
import {
  DEFAULT_HEAD,
  identityHead,
  learnWhiteningHead,
  type WhiteningOptions,
} from '../src-main/engine/head/whitening';
import { BACKBONES, DEFAULT_BACKBONE } from '../src-main/engine/model/model-spec';
import { CachedEmbedder } from './lib/cached-embedder';
import { flagString, parseFlags, table } from './lib/cli-args';
import { imagePath, loadDataset, type Dataset } from './lib/datasets';
import { classScores, evalClasses, evalHolidays, holidaysScores } from './lib/metrics';
import { loadOrComputePooled, type PooledOptions } from './lib/pooled-cache';
import { hubness } from './lib/hubness';
import { regionScores, REGION_BOX } from './lib/regions';
import { saveBenchJson } from './lib/save-json';
import { ServedLibrary } from './lib/served-library';

const flags = parseFlags(process.argv.slice(2));
const datasetDir = flagString(flags, 'dataset');
if (!datasetDir) {
  console.error(
    'usage: npm run bench:quality -- --dataset DIR [--sizes N,N,…] [--steps N,N,…] [--regions] ' +
      '[--no-cache] [--input-size N] [--json FILE] [--ablation [--markdown FILE]]',
  );
  process.exit(2);
}
const ds = loadDataset(path.resolve(datasetDir));
const jsonOut = flagString(flags, 'json');
const log = (m: string) => process.stderr.write(m + '\n');

type Scores = Record<string, number>;

const headline = (s: Scores) =>
  ds.kind === 'holidays' ? `mAP=${s.mAP.toFixed(2)}` : `R@1=${s.r1.toFixed(2)}`;

// ── served: a fresh library through the engine API ───────────────────────────────────────────────

/** Dataset order in which photos join a library: seeded, Holidays' groups kept together. */
function joinOrder(d: Dataset): number[] {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const shuffle = <T>(a: T[]) => {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  };
  if (d.kind !== 'holidays') return shuffle(d.files.map((_, i) => i));
  const grouped = new Set<number>();
  const groups = d.queries!.map((q) => [q.query, ...q.positives]);
  for (const g of groups) for (const i of g) grouped.add(i);
  const loose = d.files.map((_, i) => i).filter((i) => !grouped.has(i));
  return [...shuffle(groups).flat(), ...shuffle(loose)];
}

/** Served scores over the photos in the library (queries and positives restricted to them). */
async function servedScores(lib: ServedLibrary): Promise<Scores> {
  const inLib = (i: number) => lib.idOf.has(i);
  if (ds.kind === 'holidays') {
    const lists = [];
    for (const q of ds.queries!) {
      const positives = q.positives.filter(inLib);
      if (!inLib(q.query) || !positives.length) continue;
      lists.push({ ranked: await lib.similar(q.query), positives });
    }
    return { queries: lists.length, ...holidaysScores(lists) };
  }
  const labels = ds.labels!.map((l, i) => (inLib(i) ? l : undefined));
  const lists = [];
  for (const q of lib.idOf.keys()) lists.push({ query: q, ranked: await lib.similar(q, 100) });
  return { queries: lists.length, ...classScores(lists, labels) };
}

async function measure(lib: ServedLibrary, extra: Record<string, string | number>) {
  const head = await lib.head();
  const scores = await servedScores(lib);
  const row = { ...extra, photos: lib.size, headVersions: head.versions, dim: head.dim, ...scores };
  log(`  ${JSON.stringify(row)}`);
  return row;
}

async function openEmbedder(): Promise<{ embedder: PhotoEmbedder; cached: CachedEmbedder | null }> {
  const size = flagString(flags, 'input-size');
  const inner = await createDefaultEmbedder({ log, inputSize: size ? Number(size) : undefined });
  if (flags.has('no-cache')) return { embedder: inner, cached: null };
  const cached = new CachedEmbedder(inner);
  return { embedder: cached, cached };
}

const parseSizes = (name: string) =>
  flagString(flags, name)
    ?.split(',')
    .map((v) => Math.min(Number(v), ds.files.length));

// ── ideal head, in memory (reference only) ────────────────────────────────────────────────────────

async function pooledOfAll(embedder: PhotoEmbedder): Promise<Pooled[]> {
  const out: Pooled[] = [];
  for (let i = 0; i < ds.files.length; i += 8) {
    const idx = Array.from({ length: Math.min(8, ds.files.length - i) }, (_, k) => i + k);
    const decoded = await Promise.all(
      idx.map((j) => embedder.decode(imagePath(ds, j), { thumbnail: false })),
    );
    out.push(...(await embedder.embed(decoded.map((d) => d.tensor))));
  }
  return out;
}

function evaluate(vectors: Float32Array[]): Scores {
  if (ds.kind === 'holidays') return { ...evalHolidays(vectors, ds.queries!) };
  return { ...evalClasses(vectors, ds.labels!) };
}

function runHead(pooled: Pooled[], head: HeadWeights): Scores {
  return { dim: headOutDim(head), ...evaluate(projectBatch(head, pooled)) };
}

// ── ablation (in memory, pooled vectors of bench/lib/pooled-cache.ts) ─────────────────────────────

async function pooledFor(opts: PooledOptions = {}): Promise<Pooled[]> {
  const set = await loadOrComputePooled(ds.dir, opts);
  return set.pooled;
}

async function ablation(base: Pooled[]): Promise<Record<string, string | number>[]> {
  const rows: Record<string, string | number>[] = [];
  const add = (group: string, variant: string, s: Scores) => {
    const row: Record<string, string | number> = { group, variant, dim: s.dim };
    for (const [k, v] of Object.entries(s)) if (k !== 'dim') row[k] = v;
    rows.push(row);
    log(`  ${group} / ${variant}: ${headline(s)}`);
  };
  const w = (o: WhiteningOptions) => learnWhiteningHead(base, { ...DEFAULT_HEAD, ...o });
  for (const combo of ['S', 'M', 'G', 'SM', 'SG', 'MG', 'SMG', 'GS'])
    add('descriptors', combo, runHead(base, w({ combo })));
  const sum = w({});
  add('combination', `concat ${DEFAULT_HEAD.combo}`, runHead(base, sum));
  add('combination', `sum ${DEFAULT_HEAD.combo}`, runHead(base, { ...sum, combine: 'sum' }));
  add(
    'whitening',
    `none (raw ${DEFAULT_HEAD.combo}, L2 per branch)`,
    runHead(base, identityHead(base[0].S.length, DEFAULT_HEAD.combo)),
  );
  add('whitening', `PCA-whitening ${DEFAULT_HEAD.combo}`, runHead(base, w({})));
  for (const dim of [32, 64, 128, 256, 512]) add('size per branch', String(dim), runHead(base, w({ dim })));
  for (const shrinkage of [0.05, 0.2, 0.5, 1, 2])
    add('eigenvalue shrinkage', String(shrinkage), runHead(base, w({ shrinkage })));
  const spec = BACKBONES[DEFAULT_BACKBONE];
  for (const size of [299, 336, 384, 448, 512]) {
    const pooled = size === spec.inputSize ? base : await pooledFor({ size });
    add('input size', String(size), runHead(pooled, learnWhiteningHead(pooled, DEFAULT_HEAD)));
  }
  for (const fit of ['full', 'squash', 'crop', 'pad'] as const) {
    const pooled = await pooledFor({ fit });
    add('fit', fit, runHead(pooled, learnWhiteningHead(pooled, DEFAULT_HEAD)));
  }
  for (const id of Object.keys(BACKBONES)) {
    const pooled = await pooledFor({ backbone: id });
    add('tap', id, runHead(pooled, learnWhiteningHead(pooled, DEFAULT_HEAD)));
  }
  return rows;
}

// ── main ──────────────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  const precision = flagString(flags, 'precision');
  if (precision) setEnvValue('LIKENESS_PRECISION', precision); // read by the backbone when it loads
  if (flags.has('ablation')) {
    const rows = await ablation(await pooledFor({ fresh: flags.has('fresh') }));
    const md = table(rows);
    console.log(md);
    const mdOut = flagString(flags, 'markdown');
    if (mdOut)
      fs.writeFileSync(
        mdOut,
        `<!-- generated by npm run bench:quality -- --dataset ${datasetDir} --ablation -->\n${md}\n`,
      );
    saveBenchJson(`quality-ablation-${path.basename(ds.dir)}`, { dataset: ds.dir, ablation: rows }, jsonOut);
    return;
  }
  const t0 = Date.now();
  const { embedder, cached } = await openEmbedder();
  const order = joinOrder(ds);
  const result: Record<string, unknown> = {
    dataset: ds.dir,
    kind: ds.kind,
    images: ds.files.length,
    model: embedder.modelId,
    inputSize: embedder.description.inputSize,
    precision: precision ?? 'default (int8 on the CPU where built)',
    embedderCache: cached ? 'pooled vectors cached by file content' : 'none (--no-cache)',
  };
  try {
    const sizes = parseSizes('sizes');
    if (sizes) {
      const rows = [];
      for (const n of sizes) {
        log(`at once: ${n} photos`);
        const lib = await ServedLibrary.open(ds, embedder);
        await lib.addFolder(order.slice(0, n));
        rows.push(await measure(lib, { added: 'at once' }));
        await lib.close();
      }
      result.atOnce = rows;
      console.log(table(rows));
      saveBenchJson(`quality-${path.basename(ds.dir)}`, result, jsonOut);
    }
    const steps = parseSizes('steps');
    if (steps) {
      log(`in increments: ${steps.join(', ')}`);
      const rows = [];
      const lib = await ServedLibrary.open(ds, embedder);
      let at = 0;
      for (const n of steps) {
        await lib.addFolder(order.slice(at, n));
        at = n;
        rows.push(await measure(lib, { added: 'increments' }));
        result.increments = rows;
        saveBenchJson(`quality-${path.basename(ds.dir)}`, result, jsonOut);
      }
      await lib.close();
      result.increments = rows;
      console.log(table(rows));
      saveBenchJson(`quality-${path.basename(ds.dir)}`, result, jsonOut);
    }
    // The headline: every photo added at once, as one folder.
    log(`at once: all ${ds.files.length} photos`);
    const lib = await ServedLibrary.open(ds, embedder);
    await lib.addFolder(order);
    const served = await measure(lib, { added: 'at once' });
    result.served = served;
    result.hubness = await hubness([...lib.idOf.keys()], (p, k) => lib.similar(p, k));
    console.log(`hubness of the served ranking: ${JSON.stringify(result.hubness)}`);
    if (flags.has('regions')) {
      if (ds.kind !== 'holidays') throw new Error('--regions needs a Holidays-format dataset');
      result.regions = { box: REGION_BOX, ...(await regionScores(lib, ds.queries!)) };
      console.log(`regions (${JSON.stringify(REGION_BOX)}): ${JSON.stringify(result.regions)}`);
    }
    await lib.close();
    const all = await pooledOfAll(embedder);
    const ideal = runHead(all, learnWhiteningHead(all));
    result.ideal = ideal;
    result.cache = cached?.stats;
    result.seconds = (Date.now() - t0) / 1000;
    console.log(table([{ dataset: path.basename(ds.dir), ...served }]));
    saveBenchJson(`quality-${path.basename(ds.dir)}`, result, jsonOut);
    console.log(`ideal head (whitening learned on every photo, ranked in memory): ${headline(ideal)}`);
    console.log(headline(served as unknown as Scores));
  } finally {
    await embedder.close?.();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
