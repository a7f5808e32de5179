/**
 * Fine-tuning benchmark on a class-format dataset (labels.json).
 *
 *   npm run bench:finetune -- --dataset DIR [--per-album N] [--json FILE] [--ablation] [--seed S]
 *
 * Protocol: half of the classes (seeded shuffle) become albums with N labelled photos each (default 10);
 * the other half are never labelled. The initial head is the unsupervised whitening head learned on all
 * photos (the user's library). Recall@1: each query ranks every other photo of the dataset (all classes,
 * labelled photos included; only itself excluded) and is correct when its nearest photo shares its class.
 * "albums" queries are the unlabelled photos of album classes; "others" queries are all photos of
 * never-labelled classes. Training runs in a worker thread, as in the app; its time includes the worker's
 * start. Re-projection of 100k synthetic stored vectors (10 × the same 10k): through ONNX Runtime
 * (head-session.ts, the path a head switch uses; session creation included), the batched Float32 kernel,
 * and the TypeScript reference projectBatch (timed on 10k and scaled ×10, unless --reproject-only).
 * --ablation reruns the paper's comparisons in-process and writes the table into docs/finetune.md.
 * --synthetic runs on generated clusters instead of a dataset (development only); --size N picks the
 * backbone input size and --fit the resize mode (and so the pooled cache: `--size 299 --fit squash`
 * reuses the 299-px cache); --combo/--dim shape the whitening head; --opt k=v overrides one trainer
 * option; --no-reproject skips the re-projection timing (tuning). --reproject-only [--channels C] times
 * only the re-projection (no dataset, all three paths on the full 100k) and then a real head switch:
 * HeadManager.adopt() over a SQLite library of --adopt N photos (default 100k; 0 = skip). The figures
 * are saved to --json FILE, else .bench/finetune-<dataset>.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadDataset } from './lib/datasets';
import { loadOrComputePooled } from './lib/pooled-cache';
import {
  HeadNet,
  modelFromHead,
  prepareInputs,
  type HeadModel,
} from '../src-main/engine/finetune/head-model';
import { recallAt1 } from '../src-main/engine/finetune/recall';
import { gaussian, makeRng, shuffleInPlace } from '../src-main/engine/finetune/rng';
import { runTrainingInWorker } from '../src-main/engine/finetune/run-in-worker';
import {
  FINETUNE_DEFAULTS,
  trainHead,
  type FinetuneOptions,
  type TrainResult,
} from '../src-main/engine/finetune/trainer';
import type { HeadWeights, Pooled } from '../src-main/engine/head/head-types';
import { projectBatch } from '../src-main/engine/head/project';
import { learnWhiteningHead } from '../src-main/engine/head/whitening';
import { projectBatchFast, releaseFastSession } from '../src-main/engine/head/head-session';
import type { FitMode } from '../src-main/engine/decode/decode-image';
import { measureAdopt } from './lib/adopt-timing';
import { saveBenchJson } from './lib/save-json';

interface Args {
  dataset?: string;
  perAlbum: number;
  json?: string;
  ablation: boolean;
  seed: number;
  /** several class splits in one run (--seeds 1,2,3): a summary table over them */
  seeds?: number[];
  /** number of album classes (default: half of the classes) */
  albums?: number;
  /** 'likeness' (default) or 'paper': the plain CGD recipe from the whitening head (no album init) */
  recipe: 'likeness' | 'paper';
  synthetic: boolean;
  combo?: string;
  dim?: number;
  /** backbone input size override (selects another pooled cache); the manifest's by default */
  size?: number;
  fit?: FitMode;
  reprojectOnly: boolean;
  /** development: skip the re-projection timing */
  noReproject: boolean;
  channels: number;
  adoptPhotos: number;
  options: Partial<FinetuneOptions>;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    perAlbum: 10,
    ablation: false,
    seed: 1,
    recipe: 'likeness',
    synthetic: false,
    reprojectOnly: false,
    noReproject: false,
    channels: 768,
    adoptPhotos: 100_000,
    options: {},
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    if (k === '--dataset') a.dataset = v();
    else if (k === '--per-album') a.perAlbum = Number(v());
    else if (k === '--json') a.json = v();
    else if (k === '--ablation') a.ablation = true;
    else if (k === '--seed') a.seed = Number(v());
    else if (k === '--seeds') a.seeds = v().split(',').map(Number);
    else if (k === '--albums') a.albums = Number(v());
    else if (k === '--recipe') {
      const r = v();
      if (r !== 'likeness' && r !== 'paper') throw new Error('--recipe is likeness or paper');
      a.recipe = r;
    } else if (k === '--synthetic') a.synthetic = true;
    else if (k === '--combo') a.combo = v();
    else if (k === '--dim') a.dim = Number(v());
    else if (k === '--size') a.size = Number(v());
    else if (k === '--fit') a.fit = v() as FitMode;
    else if (k === '--reproject-only') a.reprojectOnly = true;
    else if (k === '--no-reproject') a.noReproject = true;
    else if (k === '--channels') a.channels = Number(v());
    else if (k === '--adopt') a.adoptPhotos = Number(v());
    else if (k === '--opt') {
      // --opt name=value: override one trainer option (tuning)
      const [name, val] = v().split('=');
      if (!(name in FINETUNE_DEFAULTS)) throw new Error(`unknown trainer option ${name}`);
      const def = (FINETUNE_DEFAULTS as unknown as Record<string, unknown>)[name];
      (a.options as Record<string, unknown>)[name] =
        typeof def === 'number' ? Number(val) : typeof def === 'boolean' ? val === 'true' : val;
    } else throw new Error(`unknown argument ${k}`);
  }
  if (!a.dataset && !a.synthetic && !a.reprojectOnly)
    throw new Error('usage: bench/finetune.ts --dataset DIR [--per-album N] [--json FILE] [--ablation]');
  if (!(a.perAlbum >= 4)) throw new Error('--per-album must be at least 4 (the trainer holds some out)');
  return a;
}

interface Data {
  name: string;
  pooled: Pooled[];
  labels: string[];
}

async function loadData(a: Args): Promise<Data> {
  if (a.synthetic) {
    const rng = makeRng(99);
    const classes = 40;
    const c = 64;
    const mix = Float32Array.from({ length: c * 16 }, () => gaussian(rng));
    const centres = Array.from({ length: classes }, () =>
      Float32Array.from({ length: 8 }, () => gaussian(rng)),
    );
    const pooled: Pooled[] = [];
    const labels: string[] = [];
    for (let k = 0; k < classes; k++)
      for (let j = 0; j < 40; j++) {
        const z = Float32Array.from({ length: 16 }, (_, i) =>
          i < 8 ? centres[k][i] + 0.7 * gaussian(rng) : 2 * gaussian(rng),
        );
        const mk = (s: number) =>
          Float32Array.from({ length: c }, (_, ch) => {
            let v = s;
            for (let i = 0; i < 16; i++) v += mix[ch * 16 + i] * z[i];
            return Math.max(0, v);
          });
        pooled.push({ S: mk(1), M: mk(3), G: mk(2) });
        labels.push(`class${k}`);
      }
    return { name: 'synthetic', pooled, labels };
  }
  const dir = path.resolve(a.dataset!);
  const ds = loadDataset(dir);
  if (ds.kind !== 'classes' || !ds.labels)
    throw new Error(`${dir}: fine-tuning needs a class-format dataset (labels.json)`);
  const set = await loadOrComputePooled(dir, {
    ...(a.size ? { size: a.size } : {}),
    ...(a.fit ? { fit: a.fit } : {}),
  });
  return { name: path.basename(dir), pooled: set.pooled, labels: ds.labels };
}

interface Split {
  albumClasses: Set<string>;
  labelled: number[];
  albumQueries: number[];
  otherQueries: number[];
}

function makeSplit(labels: string[], perAlbum: number, seed: number, albums?: number): Split {
  const rng = makeRng(seed);
  const classes = shuffleInPlace([...new Set(labels)].sort(), rng);
  const albumClasses = new Set(classes.slice(0, albums ?? Math.floor(classes.length / 2)));
  const byClass = new Map<string, number[]>();
  labels.forEach((l, i) => (byClass.get(l) ?? byClass.set(l, []).get(l)!).push(i));
  const labelled: number[] = [];
  const albumQueries: number[] = [];
  const otherQueries: number[] = [];
  for (const c of [...byClass.keys()].sort()) {
    const items = byClass.get(c)!;
    if (!albumClasses.has(c)) {
      otherQueries.push(...items);
      continue;
    }
    const order = shuffleInPlace([...items], rng);
    labelled.push(...order.slice(0, perAlbum));
    albumQueries.push(...order.slice(perAlbum));
  }
  return { albumClasses, labelled, albumQueries, otherQueries };
}

function embed(model: HeadModel, pooled: Pooled[]): { emb: Float32Array; dim: number } {
  const net = new HeadNet(model, 0, 512);
  return { emb: net.embedAll(prepareInputs(model, pooled), pooled.length), dim: net.outDim };
}

function scores(model: HeadModel, pooled: Pooled[], cls: Int32Array, split: Split) {
  const { emb, dim } = embed(model, pooled);
  return {
    albums: 100 * recallAt1(emb, dim, cls, split.albumQueries).r1,
    others: 100 * recallAt1(emb, dim, cls, split.otherQueries).r1,
  };
}

interface ReprojectionMs {
  /** TypeScript reference; measured on `projectBatchRows` rows and scaled to 100k */
  projectBatch: number;
  projectBatchRows: number;
  batched: number;
  /** ONNX Runtime (HeadSession), session creation included */
  ort: number;
}

/** 100k synthetic stored vectors (10 × the same 10k) through ONNX Runtime, the batched kernel and projectBatch. */
async function reprojectionMs(
  head: HeadWeights,
  channels: number,
  fullReference: boolean,
): Promise<ReprojectionMs> {
  const rng = makeRng(5);
  const chunk: Pooled[] = Array.from({ length: 10_000 }, () => {
    const v = () => Float32Array.from({ length: channels }, () => Math.abs(gaussian(rng)));
    return { S: v(), M: v(), G: v() };
  });
  releaseFastSession();
  let t = performance.now();
  let check = 0;
  let first: Float32Array[] = [];
  for (let r = 0; r < 10; r++) {
    const out = await projectBatchFast(head, chunk);
    if (r === 0) first = out;
    check += out.length;
  }
  const ort = performance.now() - t;
  releaseFastSession();
  if (check !== 100_000) throw new Error('re-projection lost vectors');
  const reps = fullReference ? 10 : 1;
  t = performance.now();
  let ref: Float32Array[] = [];
  for (let r = 0; r < reps; r++) ref = projectBatch(head, chunk);
  const pb = ((performance.now() - t) * 10) / reps;
  let maxDiff = 0;
  ref.forEach((v, i) => v.forEach((x, k) => (maxDiff = Math.max(maxDiff, Math.abs(x - first[i][k])))));
  if (maxDiff > 1e-4) throw new Error(`ONNX Runtime head disagrees with projectBatch by ${maxDiff}`);
  const model = modelFromHead(head);
  const net = new HeadNet(model, 0, 512);
  t = performance.now();
  for (let r = 0; r < 10; r++) net.embedAll(prepareInputs(model, chunk), chunk.length);
  return { projectBatch: pb, projectBatchRows: reps * chunk.length, batched: performance.now() - t, ort };
}

function reprojectionLine(r: ReprojectionMs, channels: number): string {
  const s = (ms: number) => (ms / 1000).toFixed(2);
  return (
    `re-projection of 100k stored vectors (${channels} channels): ONNX Runtime head ${s(r.ort)} s; ` +
    `projectBatch ${s(r.projectBatch)} s${r.projectBatchRows < 100_000 ? ` (${r.projectBatchRows / 1000}k timed, ×${100_000 / r.projectBatchRows})` : ''}; ` +
    `batched Float32 kernel (finetune/head-model HeadNet.embedAll) ${s(r.batched)} s`
  );
}

/** --reproject-only: the head switch's cost without a dataset (a whitening head of the default shape). */
async function reprojectOnly(a: Args): Promise<void> {
  const rng = makeRng(11);
  const sample: Pooled[] = Array.from({ length: 2000 }, () => {
    const v = () => Float32Array.from({ length: a.channels }, () => Math.abs(gaussian(rng)));
    return { S: v(), M: v(), G: v() };
  });
  const head = learnWhiteningHead(sample, {
    ...(a.combo ? { combo: a.combo } : {}),
    ...(a.dim ? { dim: a.dim } : {}),
  });
  console.log(`head ${head.combo} ${head.branches.map((b) => `${b.inDim}→${b.outDim}`).join(' + ')}`);
  const r = await reprojectionMs(head, a.channels, true);
  console.log(reprojectionLine(r, a.channels));
  let adopt: Awaited<ReturnType<typeof measureAdopt>> | undefined;
  if (a.adoptPhotos > 0) {
    adopt = await measureAdopt(head, a.channels, a.adoptPhotos);
    console.log(
      `head switch (HeadManager.adopt, SQLite + float16 decode + projection + writes) over ${a.adoptPhotos} photos: ` +
        `ONNX Runtime ${(adopt.bulkMs / 1000).toFixed(2)} s; projectBatch ${(adopt.syncMs / 1000).toFixed(2)} s` +
        `${adopt.syncPhotos < a.adoptPhotos ? ` (timed on ${adopt.syncPhotos}, scaled)` : ''}; library built in ${(adopt.buildMs / 1000).toFixed(1)} s`,
    );
  }
  const sec = (ms: number) => ms / 1000;
  saveBenchJson(
    'finetune-reproject',
    {
      head: { combo: head.combo, dims: head.branches.map((b) => b.outDim), channels: a.channels },
      reprojection100kSeconds: {
        ort: sec(r.ort),
        projectBatch: sec(r.projectBatch),
        batched: sec(r.batched),
      },
      adopt: adopt && {
        photos: a.adoptPhotos,
        ortSeconds: sec(adopt.bulkMs),
        projectBatchSeconds: sec(adopt.syncMs),
      },
    },
    a.json,
  );
}

const fmt = (x: number) => x.toFixed(1);

interface AblationRow {
  name: string;
  options: Partial<FinetuneOptions>;
  albums: { before: number; after: number };
  others: { before: number; after: number };
  heldOutR1: number;
  epochs: number;
  trainS: number;
  adopted: boolean;
}

/** The plain CGD recipe of the paper, from the unsupervised whitening head: no album initialisation. */
const PAPER_RECIPE: Partial<FinetuneOptions> = { albumInit: false };

interface SeedRun {
  seed: number;
  albums: number;
  albumsR1: { before: number; after: number };
  othersR1: { before: number; after: number };
  heldOut: TrainResult['metrics'];
  adopted: boolean;
  reason: string;
  trainSeconds: number;
  options: FinetuneOptions;
  res: TrainResult;
  split: Split;
}

/** One class split: train in a worker (the app's trainer and adoption rule), score before and after. */
async function runSeed(
  a: Args,
  data: Data,
  cls: Int32Array,
  initHead: HeadWeights,
  seed: number,
  before0?: (split: Split) => { albums: number; others: number },
): Promise<SeedRun> {
  const split = makeSplit(data.labels, a.perAlbum, seed, a.albums);
  const trainPooled = split.labelled.map((i) => data.pooled[i]);
  const trainLabels = split.labelled.map((i) => data.labels[i]);
  // the rest of the library, as the app passes it: every photo that is in no album
  const labelledSet = new Set(split.labelled);
  const library = data.pooled.filter((_, i) => !labelledSet.has(i));
  const before = before0 ? before0(split) : scores(modelFromHead(initHead), data.pooled, cls, split);
  const t0 = performance.now();
  const res = await runTrainingInWorker({
    pooled: trainPooled,
    labels: trainLabels,
    initHead,
    library,
    options: { ...(a.recipe === 'paper' ? PAPER_RECIPE : {}), ...a.options },
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  const after = scores(res.model, data.pooled, cls, split);
  // the served path (projectBatch on the stored head format) must agree with the training-form model
  const probe = data.pooled.slice(0, 20);
  const served = projectBatch(res.head, probe);
  const mine = embed(res.model, probe);
  let maxDiff = 0;
  served.forEach((v, i) =>
    v.forEach((x, k) => (maxDiff = Math.max(maxDiff, Math.abs(x - mine.emb[i * mine.dim + k])))),
  );
  if (maxDiff > 1e-4 && res.options.arch !== 'B')
    throw new Error(`projectBatch disagrees with the trained model by ${maxDiff}`);
  return {
    seed,
    albums: split.albumClasses.size,
    albumsR1: { before: before.albums, after: after.albums },
    othersR1: { before: before.others, after: after.others },
    heldOut: res.metrics,
    adopted: res.adopted,
    reason: res.reason,
    trainSeconds,
    options: res.options,
    res,
    split,
  };
}

/** The figures a user would get: the candidate's when adopted, else the current head's (unchanged). */
function served(r: SeedRun): { albums: number; others: number } {
  return r.adopted
    ? { albums: r.albumsR1.after - r.albumsR1.before, others: r.othersR1.after - r.othersR1.before }
    : { albums: 0, others: 0 };
}

function summaryTable(runs: SeedRun[]): string {
  const d = (x: number) => (x >= 0 ? '+' : '−') + Math.abs(x).toFixed(1);
  const lines = [
    '| seed | albums | albums R@1 before → candidate (Δ) | never-labelled R@1 before → candidate (Δ) | guard: neighbours kept (β) | cross-validated mAP (photos better/worse) | adopted | train s |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of runs) {
    const g = r.heldOut.guard;
    const cv = r.heldOut.cv;
    lines.push(
      `| ${r.seed} | ${r.albums} | ${fmt(r.albumsR1.before)} → ${fmt(r.albumsR1.after)} (${d(r.albumsR1.after - r.albumsR1.before)}) | ` +
        `${fmt(r.othersR1.before)} → ${fmt(r.othersR1.after)} (${d(r.othersR1.after - r.othersR1.before)}) | ` +
        `${g ? `${(100 * g.overlap).toFixed(1)}%${g.emphasis !== undefined ? ` (β ${g.emphasis})` : ''}` : '—'} | ` +
        `${cv ? `${fmt(100 * cv.before.mAP)} → ${fmt(100 * cv.after.mAP)} (${r.heldOut.wins}/${r.heldOut.losses})` : '—'} | ` +
        `${r.adopted ? 'yes' : 'no'} | ${r.trainSeconds.toFixed(1)} |`,
    );
  }
  const mean = (f: (r: SeedRun) => number) => runs.reduce((s, r) => s + f(r), 0) / runs.length;
  const min = (f: (r: SeedRun) => number) => Math.min(...runs.map(f));
  const dA = (r: SeedRun) => r.albumsR1.after - r.albumsR1.before;
  const dO = (r: SeedRun) => r.othersR1.after - r.othersR1.before;
  lines.push(
    `| **mean** | | **${d(mean(dA))}** (min ${d(min(dA))}) | **${d(mean(dO))}** (min ${d(min(dO))}) | | | ${runs.filter((r) => r.adopted).length}/${runs.length} | ${mean((r) => r.trainSeconds).toFixed(1)} |`,
  );
  // adoption as a decision: a candidate deserves adoption when the albums gain and the rest does not lose
  const deserved = (r: SeedRun) => dA(r) > 0 && dO(r) >= -1;
  const agree = runs.filter((r) => r.adopted === deserved(r)).length;
  lines.push(
    '',
    `Adopted ${runs.filter((r) => r.adopted).length} of ${runs.length}; the decision agrees with "albums R@1 improved and never-labelled R@1 fell by at most 1 point" in ${agree} of ${runs.length}. ` +
      `As served (a refused candidate leaves the head unchanged): albums ${d(mean((r) => served(r).albums))}, never-labelled ${d(mean((r) => served(r).others))} on average.`,
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (a.reprojectOnly) return reprojectOnly(a);
  const data = await loadData(a);
  const classIds = new Map([...new Set(data.labels)].sort().map((c, i) => [c, i]));
  const cls = Int32Array.from(data.labels, (l) => classIds.get(l)!);
  const channels = data.pooled[0].S.length;
  const initHead = learnWhiteningHead(data.pooled, {
    ...(a.combo ? { combo: a.combo } : {}),
    ...(a.dim ? { dim: a.dim } : {}),
  });
  const seeds = a.seeds ?? [a.seed];
  const first = makeSplit(data.labels, a.perAlbum, seeds[0], a.albums);
  console.log(
    `dataset ${data.name}: ${data.pooled.length} photos, ${classIds.size} classes; ${first.albumClasses.size} albums × ${a.perAlbum} labelled photos; ` +
      `head ${initHead.combo} ${initHead.branches.map((b) => `${b.inDim}→${b.outDim}`).join(' + ')}; recipe ${a.recipe}`,
  );
  console.log(
    `protocol: each query ranks all other ${data.pooled.length - 1} photos; R@1 = nearest photo has its class`,
  );
  const baseEmb = embed(modelFromHead(initHead), data.pooled);
  const before0 = (split: Split) => ({
    albums: 100 * recallAt1(baseEmb.emb, baseEmb.dim, cls, split.albumQueries).r1,
    others: 100 * recallAt1(baseEmb.emb, baseEmb.dim, cls, split.otherQueries).r1,
  });
  const runs: SeedRun[] = [];
  for (const seed of seeds) {
    const r = await runSeed(a, data, cls, initHead, seed, before0);
    runs.push(r);
    console.error(
      `  seed ${seed}: albums ${fmt(r.albumsR1.before)} → ${fmt(r.albumsR1.after)}, others ${fmt(r.othersR1.before)} → ${fmt(r.othersR1.after)}, ${r.trainSeconds.toFixed(1)} s; ${r.reason}`,
    );
  }
  const r = runs[0];
  const res = r.res;
  const reprojMs = a.noReproject
    ? { ort: NaN, projectBatch: NaN, projectBatchRows: 0, batched: NaN }
    : await reprojectionMs(res.head, channels, false);

  if (runs.length === 1) {
    const split = r.split;
    console.log('');
    console.log('| measure | before | after | Δ |');
    console.log('|---|---|---|---|');
    console.log(
      `| R@1 unlabelled photos of album classes (${split.albumQueries.length} queries) | ${fmt(r.albumsR1.before)} | ${fmt(r.albumsR1.after)} | ${fmt(r.albumsR1.after - r.albumsR1.before)} |`,
    );
    console.log(
      `| R@1 never-labelled classes (${split.otherQueries.length} queries) | ${fmt(r.othersR1.before)} | ${fmt(r.othersR1.after)} | ${fmt(r.othersR1.after - r.othersR1.before)} |`,
    );
    console.log(
      `| held-out album photos R@1 (trainer) | ${fmt(100 * res.metrics.before.r1)} | ${fmt(100 * res.metrics.after.r1)} | ${fmt(100 * (res.metrics.after.r1 - res.metrics.before.r1))} |`,
    );
    if (res.metrics.cv)
      console.log(
        `| all album photos, ${res.metrics.cv.folds}-fold cross-validated mAP (trainer) | ${fmt(100 * res.metrics.cv.before.mAP)} | ${fmt(100 * res.metrics.cv.after.mAP)} | ${fmt(100 * (res.metrics.cv.after.mAP - res.metrics.cv.before.mAP))} |`,
      );
    if (res.metrics.guard)
      console.log(
        `| library guard: share of ${res.metrics.guard.k} nearest neighbours kept (${res.metrics.guard.photos} library photos) | 100.0 | ${fmt(100 * res.metrics.guard.overlap)} | |`,
      );
    console.log('');
    console.log(
      `training: ${r.trainSeconds.toFixed(2)} s in a worker (${res.metrics.epochs.length} epochs, best ${res.metrics.bestEpoch}); ${res.reason}`,
    );
  }
  console.log('');
  console.log(summaryTable(runs));
  if (!a.noReproject) console.log(reprojectionLine(reprojMs, channels));

  let ablation: AblationRow[] | undefined;
  if (a.ablation) {
    const split = r.split;
    const trainPooled = split.labelled.map((i) => data.pooled[i]);
    const trainLabels = split.labelled.map((i) => data.labels[i]);
    const labelledSet = new Set(split.labelled);
    const library = data.pooled.filter((_, i) => !labelledSet.has(i));
    ablation = await runAblation(a, data, cls, split, initHead, trainPooled, trainLabels, library);
  }

  const row = (x: SeedRun) => ({
    seed: x.seed,
    albums: x.albums,
    albumsR1: x.albumsR1,
    othersR1: x.othersR1,
    heldOut: x.heldOut,
    adopted: x.adopted,
    reason: x.reason,
    trainSeconds: x.trainSeconds,
  });
  saveBenchJson(
    `finetune-${data.name}${a.albums ? `-${a.albums}albums` : ''}${a.recipe === 'paper' ? '-paper' : ''}`,
    {
      dataset: data.name,
      perAlbum: a.perAlbum,
      recipe: a.recipe,
      head: { combo: initHead.combo, dims: initHead.branches.map((b) => b.outDim) },
      ...row(r),
      runs: runs.length > 1 ? runs.map(row) : undefined,
      reprojection100kSeconds: {
        ort: reprojMs.ort / 1000,
        projectBatch: reprojMs.projectBatch / 1000,
        batched: reprojMs.batched / 1000,
      },
      options: r.options,
      ablation,
    },
    a.json,
  );
  console.log(
    `albums R@1 before=${fmt(r.albumsR1.before)} after=${fmt(r.albumsR1.after)} others R@1 before=${fmt(r.othersR1.before)} after=${fmt(r.othersR1.after)}`,
  );
}

// The paper's comparisons run from the unsupervised whitening head (albumInit off), so that they show
// the losses and architectures themselves; the last rows take Likeness' own additions apart.
const PAPER = { albumInit: false } as const;
const VARIANTS: { name: string; options: Partial<FinetuneOptions> }[] = [
  { name: 'CGD: ranking + classification (ε 0.1, τ 0.5), concat', options: { ...PAPER } },
  { name: 'ranking loss only', options: { ...PAPER, classification: false } },
  { name: 'no label smoothing (τ 0.5)', options: { ...PAPER, smoothing: 0 } },
  { name: 'no temperature (ε 0.1)', options: { ...PAPER, temperature: 1 } },
  { name: 'neither smoothing nor temperature', options: { ...PAPER, smoothing: 0, temperature: 1 } },
  { name: 'architecture A (a loss per branch)', options: { ...PAPER, arch: 'A' } },
  { name: 'architecture B (concat raw, one FC + L2)', options: { ...PAPER, arch: 'B' } },
  { name: 'sum instead of concatenation', options: { ...PAPER, combine: 'sum' } },
  { name: 'full W on raw inputs instead of M·W₀', options: { ...PAPER, space: 'input' } },
  { name: '**default**: album init + self-training, then CGD training', options: {} },
  { name: 'album init + self-training only (no gradient training)', options: { maxEpochs: 0 } },
  { name: 'album init without self-training, then CGD training', options: { pseudoK: 0 } },
  { name: 'album init without the discriminant stretch (β 0)', options: { initEmphasis: 0 } },
];

async function runAblation(
  a: Args,
  data: Data,
  cls: Int32Array,
  split: Split,
  initHead: HeadWeights,
  trainPooled: Pooled[],
  trainLabels: string[],
  library: Pooled[],
): Promise<AblationRow[]> {
  const rows: AblationRow[] = [];
  const base = scores(modelFromHead(initHead), data.pooled, cls, split);
  for (const v of VARIANTS) {
    const t = performance.now();
    const res: TrainResult = await trainHead({
      pooled: trainPooled,
      labels: trainLabels,
      initHead,
      library,
      options: { ...a.options, ...v.options },
    });
    const trainS = (performance.now() - t) / 1000;
    const s = scores(res.model, data.pooled, cls, split);
    rows.push({
      name: v.name,
      options: v.options,
      albums: { before: base.albums, after: s.albums },
      others: { before: base.others, after: s.others },
      heldOutR1: 100 * res.metrics.after.r1,
      epochs: res.metrics.bestEpoch,
      trainS,
      adopted: res.adopted,
    });
    console.error(
      `  ablation: ${v.name}: albums ${fmt(s.albums)} others ${fmt(s.others)} (${trainS.toFixed(1)} s)`,
    );
  }
  const table = [
    `Dataset \`${data.name}\`, ${split.albumClasses.size} albums × ${a.perAlbum} labelled photos, seed ${a.seed}, head ${initHead.combo} ` +
      `(${initHead.branches.map((b) => b.outDim).join('+')} d). Before fine-tuning: albums R@1 ${fmt(base.albums)}, others R@1 ${fmt(base.others)}.`,
    '',
    '| variant | albums R@1 | Δ albums | others R@1 | Δ others | held-out R@1 | best epoch | train s | adopted |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${fmt(r.albums.after)} | ${fmt(r.albums.after - r.albums.before)} | ${fmt(r.others.after)} | ${fmt(r.others.after - r.others.before)} | ${fmt(r.heldOutR1)} | ${r.epochs} | ${r.trainS.toFixed(1)} | ${r.adopted ? 'yes' : 'no'} |`,
    ),
  ].join('\n');
  console.log('');
  console.log(table);
  if (!a.synthetic) writeAblationDoc(table);
  return rows;
}

const START = '<!-- ablation:start -->';
const END = '<!-- ablation:end -->';

function writeAblationDoc(table: string): void {
  const file = path.resolve('docs/finetune.md');
  const doc = fs.existsSync(file)
    ? fs.readFileSync(file, 'utf8')
    : `# Fine-tuning\n\n## Ablations\n\n${START}\n${END}\n`;
  const i = doc.indexOf(START);
  const j = doc.indexOf(END);
  if (i < 0 || j < i) throw new Error(`${file}: missing ${START} … ${END} markers`);
  fs.writeFileSync(file, doc.slice(0, i + START.length) + '\n' + table + '\n' + doc.slice(j));
}

main().catch((e: Error) => {
  console.error(`bench:finetune: ${e.message}`);
  process.exit(1);
});
