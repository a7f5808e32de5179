/**
 * bench:quality — retrieval quality of the real pipeline (default backbone, default head learned
 * on the dataset itself, as the app learns it on a library) on a dataset in the shared format:
 *   Holidays format (groundtruth.json) → mAP, R@1, R@10; last line `mAP=NN.NN`
 *   class format (labels.json)         → R@1/2/4/8, mAP@R; last line `R@1=NN.NN`
 *   npm run bench:quality -- --dataset DIR [--json FILE] [--ablation [--markdown FILE]] [--precision int8]
 * Pooled vectors are cached under .bench/ (keyed by the model's checksum); --fresh recomputes.
 */
import fs from 'node:fs';
import { saveBenchJson } from './lib/save-json';
import path from 'node:path';
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
import { flagString, parseFlags, table } from './lib/cli-args';
import { loadDataset, type Dataset } from './lib/datasets';
import { evalClasses, evalHolidays } from './lib/metrics';
import { loadOrComputePooled, type PooledOptions } from './lib/pooled-cache';

const flags = parseFlags(process.argv.slice(2));
const datasetDir = flagString(flags, 'dataset');
if (!datasetDir) {
  console.error(
    'usage: npm run bench:quality -- --dataset DIR [--json FILE] [--ablation [--markdown FILE]] [--fresh]',
  );
  process.exit(2);
}
const ds = loadDataset(path.resolve(datasetDir));
const jsonOut = flagString(flags, 'json');

type Scores = Record<string, number>;

function evaluate(vectors: Float32Array[]): Scores {
  if (ds.kind === 'holidays') return { ...evalHolidays(vectors, ds.queries!) };
  return { ...evalClasses(vectors, ds.labels!) };
}

const headline = (s: Scores) =>
  ds.kind === 'holidays' ? `mAP=${s.mAP.toFixed(2)}` : `R@1=${s.r1.toFixed(2)}`;

async function pooledFor(opts: PooledOptions = {}): Promise<Pooled[]> {
  const set = await loadOrComputePooled(ds.dir, opts);
  return set.pooled;
}

function runHead(pooled: Pooled[], head: HeadWeights): Scores {
  return { dim: headOutDim(head), ...evaluate(projectBatch(head, pooled)) };
}

async function ablation(base: Pooled[]): Promise<Record<string, string | number>[]> {
  const rows: Record<string, string | number>[] = [];
  const add = (group: string, variant: string, s: Scores) => {
    const row: Record<string, string | number> = { group, variant, dim: s.dim };
    for (const [k, v] of Object.entries(s)) if (k !== 'dim') row[k] = v;
    rows.push(row);
    process.stderr.write(`  ${group} / ${variant}: ${headline(s)}\n`);
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
  for (const size of [299, 384, 448, 512]) {
    const pooled = size === spec.inputSize ? base : await pooledFor({ size });
    add('input size', String(size), runHead(pooled, learnWhiteningHead(pooled, DEFAULT_HEAD)));
  }
  for (const fit of ['squash', 'crop', 'pad'] as const) {
    const pooled = await pooledFor({ fit });
    add('fit', fit, runHead(pooled, learnWhiteningHead(pooled, DEFAULT_HEAD)));
  }
  for (const id of Object.keys(BACKBONES)) {
    const pooled = await pooledFor({ backbone: id });
    add('tap', id, runHead(pooled, learnWhiteningHead(pooled, DEFAULT_HEAD)));
  }
  return rows;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const precision = flagString(flags, 'precision', 'fp32') as 'fp32' | 'int8';
  const pooled = await pooledFor({ fresh: flags.has('fresh'), precision });
  const embedSeconds = (Date.now() - t0) / 1000;
  const head = learnWhiteningHead(pooled, DEFAULT_HEAD);
  const scores = runHead(pooled, head);
  const result: Record<string, unknown> = {
    dataset: ds.dir,
    kind: ds.kind,
    images: ds.files.length,
    model: DEFAULT_BACKBONE,
    precision,
    head: { ...DEFAULT_HEAD },
    scores,
    embedSeconds,
  };
  if (flags.has('ablation')) {
    const rows = await ablation(pooled);
    const md = table(rows);
    console.log(md);
    result.ablation = rows;
    const mdOut = flagString(flags, 'markdown');
    if (mdOut)
      fs.writeFileSync(
        mdOut,
        `<!-- generated by npm run bench:quality -- --dataset ${datasetDir} --ablation -->\n${md}\n`,
      );
  }
  console.log(table([{ dataset: path.basename(ds.dir), images: ds.files.length, ...scores }]));
  saveBenchJson(`quality-${path.basename(ds.dir)}`, result, jsonOut);
  console.log(headline(scores));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

export type { Dataset };
