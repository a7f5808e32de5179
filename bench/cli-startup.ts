/**
 * How fast the `likeness` command answers when it needs no inference, on a synthetic 10k-photo library:
 * wall time of `bin/likeness.js status`, `duplicates` and `similar <a library photo>`, each a fresh
 * process, as a user runs them (the bundle in dist/main, built first).
 *
 * The library is made through the engine's own path (Library.addFolder scans real files, the indexer
 * commits them, learns the whitening head and builds the HNSW index), with a stand-in backbone that
 * returns clustered vectors instead of decoding photos: 10k real decodes would take an hour here, and the
 * commands measured never run the backbone. The stand-in carries the installed model's id, so the CLI
 * (with the real model) finds the library current. Target: each command ≤ 0.5 s.
 *
 *   npm run bench:cli [-- --photos 10000] [--runs 5] [--commands status,duplicates,similar] [--keep DIR]
 *                     [--json FILE]
 * --keep DIR makes the library there once and reuses it on later runs (making it takes minutes).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildMain } from '../scripts/build-main';
import type { Pooled } from '../src-main/engine/head/head-types';
import type { DecodedPhoto } from '../src-main/engine/decode/decode-image';
import type { PhotoEmbedder } from '../src-main/engine/embed/photo-embedder';
import { gaussian, makeRng } from '../src-main/engine/finetune/rng';
import { Library } from '../src-main/engine/library';
import { loadInstalledModel } from '../src-main/engine/model/model-store';
import { flagString, parseFlags, table } from './lib/cli-args';
import { saveBenchJson } from './lib/save-json';

const flags = parseFlags(process.argv.slice(2));
const PHOTOS = Number(flagString(flags, 'photos', '10000'));
const RUNS = Number(flagString(flags, 'runs', '5'));
const COMMANDS = (flagString(flags, 'commands', 'status,duplicates,similar') ?? '').split(',');
const root = path.resolve(import.meta.dirname, '..');

/** Pooled vectors around PHOTOS/20 random centres; the photo's index travels in its "tensor". */
function standInEmbedder(modelId: string, channels: number): PhotoEmbedder {
  const centres = Array.from({ length: Math.max(10, PHOTOS / 20) }, (_, c) => {
    const r = makeRng(c + 1);
    return Float32Array.from({ length: channels }, () => gaussian(r));
  });
  const vector = (seed: number, centre: Float32Array) => {
    const r = makeRng(seed);
    return centre.map((x) => Math.abs(x + 0.4 * gaussian(r)));
  };
  return {
    modelId,
    channels,
    provider: 'stand-in',
    description: { name: 'stand-in', tap: 'none', inputSize: 1 },
    async decode(source): Promise<DecodedPhoto> {
      const i = Number(/(\d+)\.jpg$/.exec(String(source))?.[1] ?? 0);
      const tensor = { pixels: new Uint8Array(new Uint32Array([i]).buffer), width: 0, height: 0 };
      return { tensor, width: 4000, height: 3000, thumbnail: null, takenAt: null };
    },
    async embed(tensors): Promise<Pooled[]> {
      return tensors.map((t) => {
        const i = new Uint32Array(t.pixels.buffer, t.pixels.byteOffset, 1)[0];
        const c = centres[i % centres.length];
        return { S: vector(3 * i + 1, c), M: vector(3 * i + 2, c), G: vector(3 * i + 3, c) };
      });
    },
  };
}

async function makeLibrary(dir: string): Promise<{ db: string; photo: string }> {
  const photos = path.join(dir, 'photos');
  const db = path.join(dir, 'library');
  for (let i = 0; i < PHOTOS; i++) {
    const sub = path.join(photos, String(Math.floor(i / 1000)).padStart(2, '0'));
    if (i % 1000 === 0) fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(sub, `${i}.jpg`), `synthetic photo ${i}`);
  }
  const { modelId, manifest } = loadInstalledModel();
  const lib = await Library.open(db, standInEmbedder(modelId, manifest.outputs.dim));
  try {
    await lib.addFolder(photos);
    const summary = await lib.startIndexing();
    await lib.whenIndexReady();
    console.error(`library: ${summary.done} photos indexed in ${summary.seconds.toFixed(1)} s; index ready`);
  } finally {
    await lib.close();
  }
  return { db, photo: path.join(photos, '00', '7.jpg') };
}

function timeCommand(args: string[]): { ms: number[]; out: string } {
  const ms: number[] = [];
  let out = '';
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    const res = spawnSync(process.execPath, [path.join(root, 'bin', 'likeness.js'), ...args], {
      encoding: 'utf8',
    });
    ms.push(performance.now() - t);
    if (res.status !== 0) throw new Error(`likeness ${args.join(' ')} failed: ${res.stderr}`);
    out = res.stdout;
  }
  return { ms, out };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  await buildMain();
  const keep = flagString(flags, 'keep');
  const dir = keep ? path.resolve(keep) : fs.mkdtempSync(path.join(os.tmpdir(), 'likeness-cli-bench-'));
  const ready = fs.existsSync(path.join(dir, 'library'));
  const { db, photo } = ready
    ? { db: path.join(dir, 'library'), photo: path.join(dir, 'photos', '00', '7.jpg') }
    : await makeLibrary(dir);
  const node = timeCommand(['--help']); // the floor: starting Node and loading the bundle
  const commands: [string, string[]][] = [
    ['status', ['status', '--db', db]],
    ['duplicates', ['duplicates', '--threshold', '0.99', '--json', '--db', db]],
    ['similar', ['similar', photo, '-k', '20', '--json', '--db', db]],
  ];
  const rows = [
    { command: 'likeness --help (floor)', median_ms: median(node.ms), max_ms: Math.max(...node.ms) },
  ];
  for (const [name, args] of commands.filter(([name]) => COMMANDS.includes(name))) {
    const { ms, out } = timeCommand(args);
    if (name === 'similar' && JSON.parse(out).results.length !== 20)
      throw new Error('similar: expected 20 hits');
    rows.push({ command: `likeness ${name}`, median_ms: median(ms), max_ms: Math.max(...ms) });
  }
  console.log(table(rows));
  saveBenchJson(
    'cli-startup',
    { photos: PHOTOS, runs: RUNS, cores: os.availableParallelism(), rows },
    flagString(flags, 'json'),
  );
  if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  const worst = Math.max(...rows.slice(1).map((r) => r.median_ms));
  console.log(`photos=${PHOTOS} slowest median=${worst.toFixed(0)} ms (target ≤ 500 ms)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
