/**
 * Responsiveness benchmark: does the thread that serves the UI stay responsive while the engine works?
 * A synthetic library (default 100k photos, clustered pooled vectors, a 512-d PCA head) is opened through
 * the engine API (createEngineApi, the host both shells use), and `similar` requests go through the
 * contract's dispatch back to back while three phases run:
 *   idle      nothing else;
 *   indexing  a folder of real photos (copies of the first --real photos of --dataset, in a temp folder)
 *             is added and indexed with the real model;
 *   rebuild   useHead to another 512-d head: re-projection of the library, an HNSW build in the worker,
 *             the switch. A `duplicates` scan over the whole library runs during it, timed.
 * The serving thread's event-loop delay is sampled with perf_hooks.monitorEventLoopDelay per phase.
 *
 *   npm run bench:responsiveness [-- --photos 100000] [--real 40] [--dataset DIR] [--idle 15] [--json FILE]
 *                                [--inline]   (the engine on the serving thread, as before browser mode's worker)
 *
 * Last line: `loop p99=A ms, similar p99=B ms (during rebuild)`; targets A ≤ 50, B ≤ 50, and duplicates at
 * 100k ≤ 30 s during the rebuild.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseFlags, flagString } from './lib/cli-args';
import { defaultDatasetDir, imagePath, loadDataset } from './lib/datasets';
import { saveBenchJson } from './lib/save-json';
import { dispatch, type LikenessApi, type LikenessEvent } from '../src-main/engine/api/contract';
import { createEngineApi } from '../src-main/engine/api/engine-api';
import { createEngineInWorker } from '../src-main/engine/host/engine-in-worker';
import { createDefaultEmbedder } from '../src-main/engine/embed/default-embedder';
import { gaussian, makeRng } from '../src-main/engine/finetune/rng';
import { projectBatchFast, releaseFastSession } from '../src-main/engine/head/head-session';
import type { HeadWeights, Pooled } from '../src-main/engine/head/head-types';
import { DEFAULT_HEAD, learnWhiteningHead } from '../src-main/engine/head/whitening';
import { Store } from '../src-main/engine/store/store';
import { FINGERPRINT_SIDE } from '../src-main/engine/decode/fingerprint';

const flags = parseFlags(process.argv.slice(2));
const PHOTOS = Number(flagString(flags, 'photos', '100000'));
const REAL = Number(flagString(flags, 'real', '40'));
const IDLE_S = Number(flagString(flags, 'idle', '15'));
const DATASET = flagString(flags, 'dataset', defaultDatasetDir('holidays'))!;
/** one in this many synthetic photos gets a near-copy right after it (the duplicates the scan must find) */
const DUP_EVERY = 100;

const pct = (xs: number[], p: number) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] : NaN;
const round = (x: number, d = 1) => Number(x.toFixed(d));
const log = (m: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);

/**
 * Clustered non-negative pooled vectors (the backbone's pooled features are post-ReLU), with planted
 * near-copies, and a copy fingerprint for each photo (a near-copy's is its original's with a little noise),
 * so that the duplicate finder compares pixels as it would on photos.
 */
function* syntheticPhotos(
  n: number,
  channels: number,
): Generator<{ pooled: Pooled; fingerprint: Uint8Array }> {
  const r = makeRng(12345);
  const nc = Math.max(10, Math.round(n / 50));
  const centres = Array.from({ length: nc }, () =>
    Float32Array.from({ length: 3 * channels }, () => Math.abs(gaussian(r))),
  );
  const side = FINGERPRINT_SIDE;
  let prev: { v: Float32Array; f: Uint8Array } | null = null;
  for (let i = 0; i < n; i++) {
    let v: Float32Array;
    let f: Uint8Array;
    if (prev && i % DUP_EVERY === 1) {
      v = prev.v.map((x) => Math.abs(x + 0.01 * gaussian(r)));
      f = prev.f.map((g) => Math.min(255, Math.max(0, g + 2 * gaussian(r))));
    } else {
      const c = centres[Math.floor(r() * nc)];
      v = c.map((x) => Math.abs(x + 0.8 * gaussian(r)));
      // smooth random grey: a coarse grid of levels, box-upsampled
      const coarse = Array.from({ length: 64 }, () => Math.floor(r() * 256));
      f = Uint8Array.from(
        { length: side * side },
        (_, k) => coarse[((k / side / 4) | 0) * 8 + ((k % side) >> 2)],
      );
    }
    prev = { v, f };
    yield {
      pooled: {
        S: v.subarray(0, channels),
        M: v.subarray(channels, 2 * channels),
        G: v.subarray(2 * channels),
      },
      fingerprint: f,
    };
  }
}

function learnHead(sample: Pooled[]): HeadWeights {
  return learnWhiteningHead(sample, { ...DEFAULT_HEAD });
}

/** Writes the synthetic library straight into SQLite (as the indexer would have): photos, pooled, 512-d embeddings. */
async function buildLibrary(dbDir: string, modelId: string, channels: number) {
  const store = Store.open(dbDir);
  // The folder exists (with one file) so that the engine sees it as present: a vanished folder's photos
  // are left out of every result, which would make each query scan the whole graph for nothing.
  const folderPath = path.join(dbDir, 'synthetic-photos');
  fs.mkdirSync(folderPath, { recursive: true });
  fs.writeFileSync(path.join(folderPath, 'README.txt'), 'photos of this synthetic library are not on disk\n');
  const folder = store.addFolder(folderPath);
  // two passes over the same seeded stream: heads learned on samples, then the photos written in chunks
  const sampleA: Pooled[] = [];
  const sampleB: Pooled[] = [];
  const stride = Math.max(2, Math.floor(PHOTOS / 5000));
  let i = 0;
  for (const { pooled: p } of syntheticPhotos(PHOTOS, channels)) {
    if (i % stride === 0) sampleA.push(p);
    else if (i % stride === Math.floor(stride / 2)) sampleB.push(p);
    i++;
  }
  const head = learnHead(sampleA);
  const version = store.insertHead({ modelId, kind: 'pca', trainedOn: PHOTOS, weights: head });
  store.activateHead(version);
  const CHUNK = 5000;
  const stream = syntheticPhotos(PHOTOS, channels);
  for (let start = 0; start < PHOTOS; start += CHUNK) {
    const pooled: Pooled[] = [];
    const prints: Uint8Array[] = [];
    for (let k = start; k < Math.min(PHOTOS, start + CHUNK); k++) {
      const photo = stream.next().value as { pooled: Pooled; fingerprint: Uint8Array };
      pooled.push(photo.pooled);
      prints.push(photo.fingerprint);
    }
    const embeddings = await projectBatchFast(head, pooled);
    store.transaction(() => {
      pooled.forEach((p, k) => {
        const photoId = store.insertPhoto({
          folderId: folder.id,
          path: path.join(folder.path, `${start + k}.jpg`),
          size: 1,
          mtime: 1,
          hash: `h${start + k}`,
        });
        store.commitIndexed({
          photoId,
          pooled: p,
          modelId,
          embedding: embeddings[k],
          headVersion: version,
          width: 4000,
          height: 3000,
          takenAt: null,
          fingerprint: prints[k],
        });
      });
    });
  }
  releaseFastSession();
  // the head the rebuild phase switches to: learned on another sample, same 512-d shape
  const next = store.insertHead({ modelId, kind: 'pca', trainedOn: PHOTOS, weights: learnHead(sampleB) });
  store.close();
  return { next };
}

interface PhaseResult {
  phase: string;
  seconds: number;
  loopP50ms: number;
  loopP99ms: number;
  loopMaxMs: number;
  similarCount: number;
  similarP50ms: number;
  similarP99ms: number;
  similarMaxMs: number;
  /** the machine's 1-minute load average at the phase's end (this project's machine is shared) */
  loadAverage: number;
}

async function main() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'likeness-bench-resp-'));
  const dbDir = path.join(root, 'db');
  const results: Record<string, unknown> = {
    photos: PHOTOS,
    real: REAL,
    host: flags.has('inline') ? 'inline' : 'worker',
    note: 'figures taken on the machine as it was (shared, loaded)',
  };
  try {
    const embedder = await createDefaultEmbedder();
    let t = performance.now();
    log(`building a synthetic library of ${PHOTOS} photos (${embedder.channels} channels → 512-d)`);
    const { next } = await buildLibrary(dbDir, embedder.modelId, embedder.channels);
    results.setupSeconds = round((performance.now() - t) / 1000);

    t = performance.now();
    const trash = () => Promise.reject(new Error('not in a benchmark'));
    // Browser mode's host (the engine in a worker thread) unless --inline: the engine on this thread.
    const host = flags.has('inline')
      ? await createEngineApi({
          dbDir,
          trash,
          createEmbedder: () => Promise.resolve(embedder),
          library: { watch: false },
          log: (m) => log(`engine: ${m}`),
        })
      : await createEngineInWorker({ dbDir, trash, log: (m) => log(`engine: ${m}`) });
    if (!flags.has('inline')) await embedder.close?.(); // the worker loads its own
    const api = host.api as unknown as LikenessApi;
    const call = (method: string, args: unknown) => dispatch(api, method, args);
    const waitEvent = (pred: (e: LikenessEvent) => boolean) =>
      new Promise<LikenessEvent>((resolve) => {
        const off = host.events.subscribe((e) => {
          if (pred(e)) {
            off();
            resolve(e);
          }
        });
      });
    // the first graph (no saved index yet): built in the worker; wait for it before measuring
    for (;;) {
      const s = (await call('status', {})) as { index: { ready: boolean } };
      if (s.index.ready) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    results.firstGraphSeconds = round((performance.now() - t) / 1000);
    log(`first graph ready in ${results.firstGraphSeconds} s`);

    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    const rng = makeRng(7);
    const phases: PhaseResult[] = [];
    const measure = async (phase: string, work: () => Promise<void>): Promise<PhaseResult> => {
      histogram.reset();
      const latencies: number[] = [];
      let stop = false;
      const client = (async () => {
        while (!stop) {
          const photoId = 1 + Math.floor(rng() * PHOTOS);
          const s = performance.now();
          await call('similar', { photoId, k: 50 });
          latencies.push(performance.now() - s);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const start = performance.now();
      await work();
      stop = true;
      await client;
      const r: PhaseResult = {
        phase,
        seconds: round((performance.now() - start) / 1000),
        loopP50ms: round(histogram.percentile(50) / 1e6),
        loopP99ms: round(histogram.percentile(99) / 1e6),
        loopMaxMs: round(histogram.max / 1e6),
        similarCount: latencies.length,
        similarP50ms: round(pct(latencies, 0.5)),
        similarP99ms: round(pct(latencies, 0.99)),
        similarMaxMs: round(Math.max(...latencies)),
        loadAverage: round(os.loadavg()[0]),
      };
      phases.push(r);
      log(`${phase}: ${JSON.stringify(r)}`);
      return r;
    };

    await measure('idle', () => new Promise((r) => setTimeout(r, IDLE_S * 1000)));

    const ds = loadDataset(DATASET);
    const realDir = path.join(root, 'real');
    fs.mkdirSync(realDir);
    for (let i = 0; i < Math.min(REAL, ds.files.length); i++)
      fs.copyFileSync(imagePath(ds, i), path.join(realDir, path.basename(ds.files[i])));
    await measure('indexing', async () => {
      const done = waitEvent((e) => e.event === 'index.done');
      await call('addFolder', { path: realDir });
      await done;
    });

    let duplicates: Record<string, unknown> = {};
    let switched = false;
    const rebuild = await measure('rebuild', async () => {
      const switching = call('useHead', { version: next }).then(() => (switched = true));
      // the duplicates scan starts once the switch is under way (the graph build is what takes long)
      await new Promise((r) => setTimeout(r, 3000));
      const s = performance.now();
      const res = (await call('duplicates', {})) as { groups: { photos: { photo: { id: number } }[] }[] };
      const seconds = (performance.now() - s) / 1000;
      // planted pairs: photo i (i % DUP_EVERY === 0) and i + 1, ids 1-based
      const groupOf = new Map<number, number>();
      res.groups.forEach((g, gi) => g.photos.forEach((p) => groupOf.set(p.photo.id, gi)));
      let planted = 0;
      let found = 0;
      for (let i = 0; i + 1 < PHOTOS; i += DUP_EVERY) {
        planted++;
        const a = groupOf.get(i + 1);
        if (a !== undefined && a === groupOf.get(i + 2)) found++;
      }
      duplicates = {
        seconds: round(seconds),
        groups: res.groups.length,
        plantedPairs: planted,
        plantedFound: found,
        finishedBeforeSwitch: !switched,
      };
      log(`duplicates: ${JSON.stringify(duplicates)}`);
      await switching;
    });
    histogram.disable();
    results.phases = phases;
    results.duplicates = duplicates;
    await host.close();

    console.log(`${os.cpus().length} cores; load average at each phase's end in the JSON`);
    console.log('phase      seconds   loop p50/p99/max ms      similar n   p50/p99/max ms');
    for (const p of phases)
      console.log(
        `${p.phase.padEnd(10)} ${String(p.seconds).padStart(7)}   ${`${p.loopP50ms}/${p.loopP99ms}/${p.loopMaxMs}`.padStart(20)}   ${String(p.similarCount).padStart(9)}   ${p.similarP50ms}/${p.similarP99ms}/${p.similarMaxMs}`,
      );
    const d = duplicates as {
      seconds: number;
      plantedFound: number;
      plantedPairs: number;
      finishedBeforeSwitch: boolean;
    };
    console.log(
      `duplicates over ${PHOTOS} photos: ${d.seconds} s (${d.finishedBeforeSwitch ? 'during the rebuild' : 'the rebuild ended first'}), planted pairs found ${d.plantedFound}/${d.plantedPairs} (target ≤ 30 s: ${d.seconds <= 30 ? 'MET' : 'MISSED'})`,
    );
    saveBenchJson('responsiveness', results, flagString(flags, 'json'));
    console.log(`loop p99=${rebuild.loopP99ms} ms, similar p99=${rebuild.similarP99ms} ms (during rebuild)`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
