/**
 * HNSW query benchmark over clustered synthetic vectors at the default embedding size (the default head's
 * branches × their dimension: SG × 256 = 512):
 * build time, resident bytes per photo, p50/p99 latency of k = 50 queries, recall@10 against exact search.
 * Uses the engine's own index parameters (DEFAULT_ANN_OPTIONS) and search path.
 *
 *   npm run bench:query [-- --sizes 10000,100000] [--full] [--json FILE] [--ef N] [--m N] [--efc N]
 *                       [--efs 16,32,64,96]   (recall@10 of k = 10 queries at each beam, from the same build)
 *                       [--graphs DIR]   (keeps each built graph in DIR and reuses it on the next run: a 1M
 *                                         build takes about an hour, its evaluation minutes)
 *
 * --full adds 1M (slow: hnswlib builds on one thread). Targets at 100k: p99 ≤ 10 ms, recall@10 ≥ 0.98;
 * at 1M: recall@10 ≥ 0.95. Each size is built with the engine's degree for it (mForSize; --m fixes one)
 * and searched with its beam (efForSize).
 */
import fs from 'node:fs';
import hnswlib from 'hnswlib-node';
import { saveBenchJson } from './lib/save-json';
import { DEFAULT_ANN_OPTIONS, efForSize, mForSize } from '../src-main/engine/index/ann-index';
import { TopK } from '../src-main/engine/index/vector-math';
import { gaussian, makeRng } from '../src-main/engine/finetune/rng';
import { DEFAULT_HEAD, parseCombo } from '../src-main/engine/head/whitening';

const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const DIM = parseCombo(DEFAULT_HEAD.combo).length * DEFAULT_HEAD.dim;
const K = 50;
const QUERIES = 1000;
const RECALL_QUERIES = 200;
const graphDir = opt('--graphs');
const efSweep = (opt('--efs') ?? '').split(',').filter(Boolean).map(Number);
const sizes = (opt('--sizes') ?? (argv.includes('--full') ? '10000,100000,1000000' : '10000,100000'))
  .split(',')
  .map(Number);
/** --m fixes the degree; without it each size is built with the engine's (mForSize) */
const fixedM = opt('--m') === undefined ? null : Number(opt('--m'));
const params = {
  efConstruction: Number(opt('--efc') ?? DEFAULT_ANN_OPTIONS.efConstruction),
  efSearch: Number(opt('--ef') ?? DEFAULT_ANN_OPTIONS.efSearch),
};

function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

/** n unit vectors around n/50 random centres, with cluster spreads between 0.5 and 1.5 of the centre norm. */
function clustered(
  n: number,
  seed: number,
): { data: Float32Array; centres: Float32Array[]; spread: number[] } {
  const r = makeRng(seed);
  const nc = Math.max(10, Math.round(n / 50));
  const centres = Array.from({ length: nc }, () =>
    normalize(Float32Array.from({ length: DIM }, () => gaussian(r))),
  );
  const spread = centres.map(() => 0.5 + r());
  const data = new Float32Array(n * DIM);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(r() * nc);
    const v = new Float32Array(DIM);
    const s = spread[c] / Math.sqrt(DIM);
    for (let d = 0; d < DIM; d++) v[d] = centres[c][d] + s * gaussian(r);
    data.set(normalize(v), i * DIM);
  }
  return { data, centres, spread };
}

function queriesNear(set: ReturnType<typeof clustered>, count: number, seed: number): Float32Array[] {
  const r = makeRng(seed);
  return Array.from({ length: count }, () => {
    const c = Math.floor(r() * set.centres.length);
    const s = set.spread[c] / Math.sqrt(DIM);
    return normalize(Float32Array.from({ length: DIM }, (_, d) => set.centres[c][d] + s * gaussian(r)));
  });
}

function exactTop(data: Float32Array, n: number, q: Float32Array, k: number): number[] {
  const top = new TopK(k); // one pass (a full sort, or k passes, crawls at 1M)
  for (let i = 0; i < n; i++) {
    let s = 0;
    const off = i * DIM;
    for (let d = 0; d < DIM; d++) s += data[off + d] * q[d];
    top.push(i, s);
  }
  return top.items.map((h) => h.id);
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

interface Row {
  n: number;
  /** the graph's degree */
  m: number;
  /** seconds to read the kept graph when `reused` */
  buildSeconds: number;
  reused?: boolean;
  bytesPerPhoto: number;
  fileBytesPerPhoto: number;
  p50ms: number;
  p99ms: number;
  recallAt10: number;
  /** recall@10 and p99 at each beam of --efs, and the beam the engine would use at this size */
  sweep?: { ef: number; recallAt10: number; p99ms: number }[];
  engineEf: number;
}

const rows: Row[] = [];
for (const n of sizes) {
  const set = clustered(n, n);
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const h = new hnswlib.HierarchicalNSW('ip', DIM);
  // The data set is a function of n (its seed), so a graph kept under these parameters is the same build.
  const m = fixedM ?? mForSize(DEFAULT_ANN_OPTIONS, n);
  const kept = graphDir && `${graphDir}/query-${n}-d${DIM}-m${m}-efc${params.efConstruction}.hnsw`;
  const reused = !!kept && fs.existsSync(kept);
  const t0 = performance.now();
  if (reused) h.readIndexSync(kept);
  else {
    h.initIndex({ maxElements: n, m, efConstruction: params.efConstruction });
    let lastLog = t0;
    for (let i = 0; i < n; i++) {
      h.addPoint(Array.from(set.data.subarray(i * DIM, (i + 1) * DIM)), i);
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        process.stderr.write(`  building ${n}: ${i}/${n}\n`);
      }
    }
  }
  const buildSeconds = (performance.now() - t0) / 1000;
  const rssAfter = process.memoryUsage().rss;
  const file = kept || `/tmp/likeness-bench-${process.pid}.hnsw`;
  if (!reused) {
    if (graphDir) fs.mkdirSync(graphDir, { recursive: true });
    h.writeIndexSync(file);
  }
  const fileBytes = fs.statSync(file).size;
  if (!kept) fs.rmSync(file);

  const qs = queriesNear(set, QUERIES, n + 1);
  const truths = qs.slice(0, RECALL_QUERIES).map((q) => new Set(exactTop(set.data, n, q, 10)));
  const run = (ef: number, k = K) => {
    h.setEf(Math.max(ef, k));
    const lat: number[] = [];
    const results: number[][] = [];
    for (const q of qs) {
      const t = performance.now();
      const res = h.searchKnn(Array.from(q), k); // the same conversion AnnIndex.search does
      lat.push(performance.now() - t);
      results.push(res.neighbors);
    }
    let hit = 0;
    for (let i = 0; i < RECALL_QUERIES; i++)
      for (const id of results[i].slice(0, 10)) if (truths[i].has(id)) hit++;
    return { lat, recall: hit / (RECALL_QUERIES * 10) };
  };
  const engineEf = efForSize({ ...DEFAULT_ANN_OPTIONS, ...params }, n);
  const { lat, recall } = run(engineEf);
  // The sweep asks for k = 10 so that beams below K are what they say (a k = 50 query searches ≥ 50).
  const sweep = efSweep.map((ef) => {
    const r = run(ef, 10);
    return { ef, recallAt10: Number(r.recall.toFixed(4)), p99ms: Number(pct(r.lat, 0.99).toFixed(3)) };
  });
  const row: Row = {
    n,
    m,
    buildSeconds: Number(buildSeconds.toFixed(1)),
    ...(reused ? { reused } : {}),
    bytesPerPhoto: Math.round((rssAfter - rssBefore) / n),
    fileBytesPerPhoto: Math.round(fileBytes / n),
    p50ms: Number(pct(lat, 0.5).toFixed(3)),
    p99ms: Number(pct(lat, 0.99).toFixed(3)),
    recallAt10: Number(recall.toFixed(4)),
    engineEf,
    ...(sweep.length ? { sweep } : {}),
  };
  rows.push(row);
  process.stderr.write(`  done ${n}: ${JSON.stringify(row)}\n`);
}

console.log(
  `HNSW (hnswlib-node, ip, dim ${DIM}, M ${fixedM ?? 'by size'}, efConstruction ${params.efConstruction}, ef ${params.efSearch} raised by size), k = ${K}`,
);
console.log('photos     M   build s   bytes/photo (RSS / file)    ef   p50 ms   p99 ms   recall@10');
for (const r of rows) {
  console.log(
    `${String(r.n).padEnd(10)} ${String(r.m).padStart(2)} ${`${r.buildSeconds}${r.reused ? '*' : ''}`.padStart(7)}   ${`${r.bytesPerPhoto} / ${r.fileBytesPerPhoto}`.padStart(24)}   ${String(r.engineEf).padStart(3)}   ${r.p50ms.toFixed(3).padStart(6)}   ${r.p99ms.toFixed(3).padStart(6)}   ${r.recallAt10.toFixed(4).padStart(9)}`,
  );
}
for (const r of rows)
  for (const sw of r.sweep ?? [])
    console.log(
      `  ${r.n}: ef ${sw.ef} → recall@10 ${sw.recallAt10.toFixed(4)}, p99 ${sw.p99ms.toFixed(3)} ms`,
    );
if (rows.some((r) => r.reused)) console.log('* seconds to read the graph kept in --graphs, not to build it');
const at1M = rows.find((r) => r.n === 1_000_000);
if (at1M) console.log(`target at 1M: recall@10 ≥ 0.95 ${at1M.recallAt10 >= 0.95 ? 'MET' : 'MISSED'}`);
const at100k = rows.find((r) => r.n === 100_000);
if (at100k) {
  console.log(
    `targets at 100k: p99 ≤ 10 ms ${at100k.p99ms <= 10 ? 'MET' : 'MISSED'}, recall@10 ≥ 0.98 ${at100k.recallAt10 >= 0.98 ? 'MET' : 'MISSED'}`,
  );
}
saveBenchJson(
  'query',
  { dim: DIM, k: K, params: { m: fixedM ?? 'by size', ...params }, rows },
  opt('--json'),
);
