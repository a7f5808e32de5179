/**
 * What the e2e tests drive: browser mode on the in-memory fake engine (default), or the real
 * `likeness serve` on a temporary library when LIKENESS_E2E_REAL=1. Either way the tests get a URL with the
 * token, a folder of photos to add through the UI, and what to expect of it.
 *   LIKENESS_E2E_PHOTOS  folder of photos for the real engine (default ../shared/datasets/holidays/images)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../src-main/server/http-server';
import { createFakeEngine } from './fake-engine';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ServerUnderTest {
  kind: 'fake' | 'real';
  /** the address to open, with ?token= */
  url: string;
  /** a folder of photos to add through the UI */
  photoFolder: string;
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
  return process.env.LIKENESS_E2E_REAL === '1'
    ? startReal(scratch, removeScratch)
    : startFake(scratch, removeScratch);
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
  return {
    kind: 'fake',
    url: `${server.url}?token=${server.token}`,
    photoFolder,
    groundTruth: null,
    scratch,
    async close() {
      await server.close();
      await engine.close();
      removeScratch();
    },
  };
}

async function startReal(scratch: string, removeScratch: () => void): Promise<ServerUnderTest> {
  const holidays = path.resolve(root, '..', 'shared', 'datasets', 'holidays');
  const photoFolder = path.resolve(process.env.LIKENESS_E2E_PHOTOS ?? path.join(holidays, 'images'));
  const gtFile = path.join(holidays, 'groundtruth.json');
  let groundTruth: Map<string, string[]> | null = null;
  if (fs.existsSync(gtFile) && path.dirname(photoFolder) === holidays) {
    const gt = JSON.parse(fs.readFileSync(gtFile, 'utf8')) as {
      queries: { query: string; positives: string[] }[];
    };
    groundTruth = new Map(gt.queries.map((q) => [q.query, q.positives]));
  }
  const tsx = path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const child: ChildProcess = spawn(
    process.execPath,
    [tsx, 'src-main/cli/likeness.ts', 'serve', '--port', '0', '--db', path.join(scratch, 'library')],
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
