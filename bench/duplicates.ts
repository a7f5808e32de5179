/**
 * bench:duplicates — are planted copies found, and are other shots of the same scene left alone?
 *
 * Dataset photos are made photo-sized (×4) in a temporary folder, each beside six planted copies
 * (lib/planted-copies.ts). Through the product path: a fresh library, the folder added and indexed by the
 * engine, then the `duplicates` API method the UI and the CLI call, at a sweep of thresholds. A pair is
 * called a copy when both photos fall in one cluster of copies (the same copy to keep). Per kind of copy:
 * recall over (original, copy) pairs, precision over the copy pairs called that involve a copy of that
 * kind; same-scene Holidays shots called copies count against precision. findimagedupes (Debian) runs on
 * the same folder when installed.
 *
 *   npm run bench:duplicates -- [--photos N] [--dataset DIR] [--dir DIR] [--no-cache] [--no-findimagedupes] [--json FILE]
 *
 * --dir keeps the planted photos in DIR (outside the repository) and reuses them on the next run.
 *
 * --no-cache runs the backbone on every photo; by default pooled vectors of identical model inputs are
 * reused from .bench/ (lib/tensor-cached-embedder.ts) — decoding, fingerprints, SQLite, index and query are the
 * product's either way.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  dispatch,
  unavailableHostMethods,
  DEFAULT_COPY_THRESHOLD,
  type DuplicateGroupInfo,
  type LikenessApi,
} from '../src-main/engine/api/contract';
import { createEngineApi } from '../src-main/engine/api/engine-api';
import { createDefaultEmbedder } from '../src-main/engine/embed/default-embedder';
import { withPooledCache, type CachedEmbedder } from './lib/tensor-cached-embedder';
import { flagString, parseFlags, table } from './lib/cli-args';
import { defaultDatasetDir, loadDataset } from './lib/datasets';
import { COPY_KINDS, plantCopies, type PlantedPhoto } from './lib/planted-copies';
import { saveBenchJson } from './lib/save-json';

const flags = parseFlags(process.argv.slice(2));
const count = Number(flagString(flags, 'photos', '100'));
const datasetDir = path.resolve(flagString(flags, 'dataset') ?? defaultDatasetDir('holidays'));
const useCache = !flags.has('no-cache');
const log = (m: string) => process.stderr.write(`${m}\n`);

interface KindFigures {
  precision: number;
  recall: number;
  pairs: number;
}
type Figures = Record<string, KindFigures> & { all: KindFigures };

/** Per-kind precision / recall of a set of photo pairs called copies (keys "i:j", i < j indices). */
function score(photos: PlantedPhoto[], called: Set<string>): Figures {
  const out: Record<string, KindFigures> = {};
  const kindsOf = (i: number, j: number) =>
    [photos[i].kind, photos[j].kind].filter((k): k is NonNullable<typeof k> => k !== null);
  for (const kind of [...COPY_KINDS, 'all'] as const) {
    let truePairs = 0;
    let found = 0;
    for (let i = 0; i < photos.length; i++)
      for (let j = i + 1; j < photos.length; j++) {
        const a = photos[i];
        const b = photos[j];
        if (a.source !== b.source) continue;
        // recall: original vs its copy of this kind (all: every pair of one photo's files)
        if (kind !== 'all' && !((a.kind === null && b.kind === kind) || (b.kind === null && a.kind === kind)))
          continue;
        truePairs++;
        if (called.has(`${i}:${j}`)) found++;
      }
    let calledPairs = 0;
    let right = 0;
    for (const key of called) {
      const [i, j] = key.split(':').map(Number);
      if (kind !== 'all' && !kindsOf(i, j).includes(kind)) continue;
      calledPairs++;
      if (photos[i].source === photos[j].source) right++;
    }
    out[kind] = {
      precision: calledPairs ? right / calledPairs : 1,
      recall: truePairs ? found / truePairs : 1,
      pairs: truePairs,
    };
  }
  return out as Figures;
}

const f1 = (f: KindFigures) =>
  f.precision + f.recall ? (2 * f.precision * f.recall) / (f.precision + f.recall) : 0;

/** Pairs in one cluster of copies, from the API's groups. */
function likenessPairs(groups: DuplicateGroupInfo[], indexOf: Map<string, number>): Set<string> {
  const pairs = new Set<string>();
  for (const g of groups) {
    const clusters = new Map<number, number[]>();
    for (const p of g.photos) {
      const keeper = p.copyOf ?? p.photo.id;
      const i = indexOf.get(p.photo.name);
      if (i === undefined) continue;
      if (!clusters.has(keeper)) clusters.set(keeper, []);
      clusters.get(keeper)!.push(i);
    }
    for (const c of clusters.values())
      for (const a of c) for (const b of c) if (a < b) pairs.add(`${a}:${b}`);
  }
  return pairs;
}

function findimagedupesPairs(
  dir: string,
  db: string,
  percent: number,
  indexOf: Map<string, number>,
): Set<string> {
  const out = execFileSync('findimagedupes', ['-q', '-f', db, '-t', `${percent}%`, '--', dir], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const pairs = new Set<string>();
  for (const line of out.split('\n')) {
    // one group per line, files separated by spaces (the planted names have none)
    const idx = line
      .split(' ')
      .filter(Boolean)
      .map((f) => indexOf.get(path.basename(f)))
      .filter((i): i is number => i !== undefined);
    for (const a of idx) for (const b of idx) if (a < b) pairs.add(`${a}:${b}`);
  }
  return pairs;
}

function best<T extends { figures: Figures }>(rows: T[]): T {
  return rows.reduce((a, b) => (f1(b.figures.all) > f1(a.figures.all) ? b : a));
}

function printRows(title: string, rows: { threshold: string; figures: Figures }[]): void {
  log(`\n${title}`);
  log(
    table(
      rows.flatMap((r) =>
        [...COPY_KINDS, 'all'].map((k) => ({
          threshold: r.threshold,
          kind: k,
          precision: r.figures[k].precision.toFixed(3),
          recall: r.figures[k].recall.toFixed(3),
          pairs: r.figures[k].pairs,
        })),
      ),
    ),
  );
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'likeness-bench-dups-'));
try {
  const ds = loadDataset(datasetDir);
  let t = Date.now();
  const photosDir = path.resolve(flagString(flags, 'dir') ?? path.join(tmp, 'photos'));
  fs.mkdirSync(photosDir, { recursive: true });
  const { dir, photos } = await plantCopies(ds, count, COPY_KINDS, photosDir);
  log(
    `planted ${photos.length} photos (${count} originals × ${COPY_KINDS.length + 1}) in ${((Date.now() - t) / 1000).toFixed(0)} s`,
  );
  const indexOf = new Map(photos.map((p, i) => [path.basename(p.file), i]));

  let cached: CachedEmbedder | undefined;
  const engine = await createEngineApi({
    dbDir: path.join(tmp, 'library'),
    trash: async () => {},
    log: () => {},
    library: { watch: false },
    createEmbedder: async (o) => {
      const inner = await createDefaultEmbedder(o);
      if (!useCache) return inner;
      cached = withPooledCache(inner, 'duplicates');
      return cached;
    },
  });
  const impl: LikenessApi = { ...engine.api, ...unavailableHostMethods('browser') };
  const call = (method: keyof LikenessApi, args: unknown = {}) => dispatch(impl, method, args);
  t = Date.now();
  const done = new Promise<void>((resolve) =>
    engine.events.subscribe((e) => e.event === 'index.done' && resolve()),
  );
  await call('addFolder', { path: dir });
  await done;
  cached?.save();
  const indexSeconds = (Date.now() - t) / 1000;
  log(
    `indexed in ${indexSeconds.toFixed(0)} s${cached ? ` (backbone cache: ${cached.stats.hits} hits, ${cached.stats.misses} runs)` : ''}`,
  );

  const thresholds = [DEFAULT_COPY_THRESHOLD, ...Array.from({ length: 41 }, (_, i) => 0.8 + i * 0.005)];
  const likeness: { threshold: string; value: number; figures: Figures; seconds: number }[] = [];
  for (const th of [...new Set(thresholds.map((x) => Number(x.toFixed(3))))]) {
    t = Date.now();
    const { groups } = (await call('duplicates', { threshold: th })) as { groups: DuplicateGroupInfo[] };
    likeness.push({
      threshold: th.toFixed(3),
      value: th,
      figures: score(photos, likenessPairs(groups, indexOf)),
      seconds: (Date.now() - t) / 1000,
    });
  }
  await engine.close();
  const atDefault = likeness[0];
  const likenessBest = best(likeness);
  printRows('Likeness (copy score threshold): default, then F1-maximising', [atDefault, likenessBest]);

  let fid: { default: unknown; best: unknown; seconds: number } | undefined;
  if (!flags.has('no-findimagedupes')) {
    try {
      t = Date.now();
      const db = path.join(tmp, 'findimagedupes.db');
      execFileSync('findimagedupes', ['-q', '-n', '-f', db, '--', dir]);
      const seconds = (Date.now() - t) / 1000;
      const rows = [90, ...Array.from({ length: 21 }, (_, i) => 80 + i)].map((p) => ({
        threshold: `${p}%`,
        figures: score(photos, findimagedupesPairs(dir, db, p, indexOf)),
      }));
      const fidBest = best(rows.slice(1));
      printRows('findimagedupes (its default 90%, then F1-maximising)', [rows[0], fidBest]);
      fid = { default: rows[0], best: fidBest, seconds };
    } catch (error) {
      log(
        `findimagedupes not run: ${(error as Error).message.split('\n')[0]} (apt-get install findimagedupes)`,
      );
    }
  }

  saveBenchJson(
    'duplicates',
    {
      dataset: path.basename(datasetDir),
      originals: count,
      photos: photos.length,
      kinds: COPY_KINDS,
      backboneCache: useCache,
      indexSeconds,
      likeness: { default: atDefault, best: likenessBest, sweep: likeness },
      findimagedupes: fid,
    },
    flagString(flags, 'json'),
  );
  const d = atDefault.figures;
  console.log(
    `default ${atDefault.threshold}: min precision=${Math.min(...COPY_KINDS.map((k) => d[k].precision)).toFixed(3)} min recall=${Math.min(...COPY_KINDS.map((k) => d[k].recall)).toFixed(3)}`,
  );
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
