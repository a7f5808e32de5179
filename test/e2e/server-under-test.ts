/**
 * What the e2e tests drive: the real `likeness serve` on a temporary library (default when the Holidays
 * data set is at ../shared/datasets/holidays), or browser mode on the in-memory fake engine
 * (LIKENESS_E2E_REAL=0, or no data set). Either way the tests get a URL with the token, a folder of photos
 * to add through the UI, and what to expect of it.
 *   LIKENESS_E2E_REAL    1: the real engine, 0: the fake (default: real when the data set is there)
 *   LIKENESS_E2E_GROUPS  Holidays ground-truth groups copied into the test folder (default 30, ≈ 80 photos)
 *   LIKENESS_E2E_PHOTOS  a folder of your own photos for the real engine instead (no ground truth)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { envInteger, envValue } from '../../src-main/engine/config';
import { startServer } from '../../src-main/server/http-server';
import { createFakeEngine } from './fake-engine';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOLIDAYS = path.resolve(root, '..', 'shared', 'datasets', 'holidays');

/** Whether this run drives the real engine: asked for, or by default when the data set is there. */
export function useRealEngine(env = process.env): boolean {
  const real = envValue('LIKENESS_E2E_REAL', env);
  if (real === '1') return true;
  if (real === '0') return false;
  return fs.existsSync(path.join(HOLIDAYS, 'images')) || envValue('LIKENESS_E2E_PHOTOS', env) !== undefined;
}

export interface ServerUnderTest {
  kind: 'fake' | 'real';
  /** the address to open, with ?token= */
  url: string;
  /** a folder of photos to add through the UI */
  photoFolder: string;
  /** how many photos indexing the folder gives at least */
  photoCount: number;
  /** holidays ground truth (real engine only): query file name → positives */
  groundTruth: Map<string, string[]> | null;
  /** scratch space for files the tests make (dropped images, a vanishing folder) */
  scratch: string;
  close(): Promise<void>;
}

/** Builds the renderer once per run, so the tests never see a stale bundle. */
export function buildRenderer(): void {
  const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const result = spawnSync(
    process.execPath,
    [vite, 'build', '--config', 'src-renderer/vite.config.ts', '--logLevel', 'error'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  if (result.status !== 0) throw new Error('e2e: building the renderer failed');
}

export async function startServerUnderTest(): Promise<ServerUnderTest> {
  buildRenderer();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'likeness-e2e-'));
  const removeScratch = () => fs.rmSync(scratch, { recursive: true, force: true });
  return useRealEngine() ? startReal(scratch, removeScratch) : startFake(scratch, removeScratch);
}

async function startFake(scratch: string, removeScratch: () => void): Promise<ServerUnderTest> {
  const engine = createFakeEngine({ photosPerFolder: 300, rate: 300 });
  const server = await startServer({
    api: engine.api,
    imageSource: engine.images,
    events: engine.events,
    rendererDir: path.join(root, 'dist', 'renderer'),
  });
  const photoFolder = path.join(scratch, 'Pictures');
  fs.mkdirSync(photoFolder);
  // The fake makes up this folder's photos; an empty folder would stand for one without any.
  fs.writeFileSync(
    path.join(photoFolder, 'README.txt'),
    'The fake engine makes up the photos of this folder.\n',
  );
  return {
    kind: 'fake',
    url: `${server.url}?token=${server.token}`,
    photoFolder,
    photoCount: 250,
    groundTruth: null,
    scratch,
    async close() {
      await server.close();
      await engine.close();
      removeScratch();
    },
  };
}

/**
 * A small Holidays library in the scratch folder: the first `groups` ground-truth groups (query and
 * positives), copied, so a run indexes in about a minute on two cores and never touches the data set.
 * Every other group is a distractor for every query.
 */
function holidaysSubset(
  scratch: string,
  groups: number,
): { folder: string; groundTruth: Map<string, string[]> } {
  const gt = JSON.parse(fs.readFileSync(path.join(HOLIDAYS, 'groundtruth.json'), 'utf8')) as {
    queries: { query: string; positives: string[] }[];
  };
  const chosen = [...gt.queries].sort((a, b) => a.query.localeCompare(b.query)).slice(0, groups);
  const folder = path.join(scratch, 'Holidays');
  fs.mkdirSync(folder);
  for (const q of chosen)
    for (const file of [q.query, ...q.positives])
      fs.copyFileSync(path.join(HOLIDAYS, 'images', file), path.join(folder, file));
  return { folder, groundTruth: new Map(chosen.map((q) => [q.query, q.positives])) };
}

async function startReal(scratch: string, removeScratch: () => void): Promise<ServerUnderTest> {
  let photoFolder: string;
  let groundTruth: Map<string, string[]> | null = null;
  const own = envValue('LIKENESS_E2E_PHOTOS');
  if (own) photoFolder = path.resolve(own);
  else {
    const groups = envInteger('LIKENESS_E2E_GROUPS', 30, 1);
    ({ folder: photoFolder, groundTruth } = holidaysSubset(scratch, groups));
  }
  const photoCount = fs
    .readdirSync(photoFolder)
    .filter((f) => /\.(jpe?g|png|webp|heic|tiff?)$/i.test(f)).length;
  const child: ChildProcess = spawn(
    process.execPath,
    ['bin/likeness.js', 'serve', '--port', '0', '--db', path.join(scratch, 'library')],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`likeness serve did not start in 120 s:\n${log}`)),
      120_000,
    );
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`likeness serve exited (${code}) before printing its address:\n${log}`));
    });
  });
  return {
    kind: 'real',
    url,
    photoFolder,
    photoCount,
    groundTruth,
    scratch,
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      removeScratch();
    },
  };
}
