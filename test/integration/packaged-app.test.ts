/**
 * What ships: electron-builder itself packs the app (its own `files`, `asarUnpack` and `extraResources`
 * rules and its own production-dependency collection, from electron-builder.yml) into a temporary folder,
 * offline, using a stand-in for Electron's binary. Then the packed bundles run there with plain Node, the
 * way the packaged app finds things (process.resourcesPath set as Electron sets it): open a library, index
 * photos with the shipped model, answer `similar`, serve the UI.
 *
 * What it cannot cover without Electron's binary: the Electron main process itself (window, IPC, the app://
 * and media protocols), Electron's asar loader (here app.asar is extracted, its unpacked files laid over it
 * as Electron redirects them), and the native modules rebuilt for Electron's ABI (npmRebuild needs
 * Electron's headers, online, so this test packs the modules built for Node).
 *
 * Needs the app built (dist/, resources/models): `npm ci` (prepare) or `npm run build`; `npm test` does it.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { makePhoto, tempDir } from '../helpers/images';

const root = path.resolve(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);
/** each native module, and the folder under node_modules that holds its .node binary */
const NATIVE: Record<string, string> = {
  'better-sqlite3': 'better-sqlite3',
  'hnswlib-node': 'hnswlib-node',
  'onnxruntime-node': 'onnxruntime-node',
  sharp: '@img', // sharp's binary comes in its platform package, @img/sharp-<platform>
};

let resources = ''; // <packed app>/resources: app.asar, app.asar.unpacked, models
let app = ''; // app.asar extracted, its unpacked files laid over it: what the app's code sees

before(async () => {
  for (const built of ['dist/main/likeness.js', 'dist/main/serve.js', 'dist/renderer/index.html'])
    assert.ok(fs.existsSync(path.join(root, built)), `${built} is built (npm run build)`);
  const tmp = tempDir('likeness-packaged-');
  // Electron's binary is only copied into the package: a stand-in folder keeps packaging offline.
  const electronDist = path.join(tmp, 'electron-dist');
  fs.mkdirSync(path.join(electronDist, 'resources'), { recursive: true });
  fs.writeFileSync(path.join(electronDist, 'electron'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });

  const { build, Platform } = require('electron-builder') as typeof import('electron-builder');
  const { log } = require('builder-util') as { log: { stream: NodeJS.WritableStream } };
  log.stream = process.stderr; // stdout carries node:test's reports
  const yaml = require('js-yaml') as { load(text: string): Record<string, unknown> };
  const config = yaml.load(fs.readFileSync(path.join(root, 'electron-builder.yml'), 'utf8'));
  await build({
    projectDir: root,
    targets: Platform.LINUX.createTarget('dir'),
    publish: 'never',
    config: {
      ...config,
      electronDist,
      electronVersion: (require('electron/package.json') as { version: string }).version,
      npmRebuild: false, // needs Electron's headers (online); see above
      // fuses are flipped inside Electron's own binary, which the stand-in is not (electron-builder-config
      // .test.ts checks the fuse settings themselves)
      electronFuses: null,
      directories: { output: path.join(tmp, 'out') },
    },
  });
  resources = path.join(tmp, 'out', 'linux-unpacked', 'resources');
  app = path.join(tmp, 'app');
  const asar = require('@electron/asar') as { extractAll(archive: string, dest: string): void };
  asar.extractAll(path.join(resources, 'app.asar'), app);
  fs.cpSync(path.join(resources, 'app.asar.unpacked'), app, { recursive: true });
});

test('the package holds the bundles, the model outside the asar, native modules unpacked, no nsfwjs', () => {
  const unpacked = path.join(resources, 'app.asar.unpacked', 'node_modules');
  for (const [name, binaryDir] of Object.entries(NATIVE)) {
    assert.ok(fs.existsSync(path.join(unpacked, name, 'package.json')), `${name} is unpacked from app.asar`);
    const files = fs.readdirSync(path.join(unpacked, binaryDir), { recursive: true }) as string[];
    assert.ok(
      files.some((f) => f.endsWith('.node')),
      `${name}'s native binary is unpacked from app.asar`,
    );
  }
  const manifest = JSON.parse(
    fs.readFileSync(path.join(resources, 'models', 'inception_v3-mixed5', 'manifest.json'), 'utf8'),
  ) as { file: string; bytes: number };
  assert.equal(
    fs.statSync(path.join(resources, 'models', 'inception_v3-mixed5', manifest.file)).size,
    manifest.bytes,
  );
  assert.ok(fs.existsSync(path.join(app, 'dist', 'renderer', 'index.html')));
  assert.ok(!fs.existsSync(path.join(app, 'node_modules', 'nsfwjs')), 'nsfwjs is only needed to build');
  assert.ok(!fs.existsSync(path.join(app, 'node_modules', 'tsx')), 'no TypeScript loader at run time');
});

/** Runs a packed bundle with plain Node, process.resourcesPath pointing where Electron would point it. */
function packed(bundle: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const setResources = `data:text/javascript,process.resourcesPath=${encodeURIComponent(JSON.stringify(resources))}`;
  const childEnv = { ...process.env, ...env };
  delete childEnv.LIKENESS_MODELS_DIR;
  return { argv: ['--import', setResources, path.join(app, 'dist', 'main', bundle), ...args], env: childEnv };
}

test('the packed CLI indexes photos with the shipped model and answers similar', async () => {
  const photos = tempDir('likeness-packaged-photos-');
  for (let i = 0; i < 3; i++) await makePhoto(path.join(photos, `p${i}.jpg`), i * 40, { size: 96 });
  fs.copyFileSync(path.join(photos, 'p1.jpg'), path.join(photos, 'p1-copy.jpg'));
  const db = tempDir('likeness-packaged-db-');
  const cwd = tempDir(); // nothing found through the working directory

  const index = packed('likeness.js', ['index', photos, '--db', db, '--json']);
  const indexed = spawnSync(process.execPath, index.argv, { cwd, env: index.env, encoding: 'utf8' });
  assert.equal(indexed.status, 0, indexed.stderr);
  assert.deepEqual(JSON.parse(indexed.stdout).photos, {
    total: 4,
    indexed: 4,
    pending: 0,
    failed: 0,
    missing: 0,
  });

  const similar = packed('likeness.js', [
    'similar',
    path.join(photos, 'p1.jpg'),
    '-k',
    '2',
    '--json',
    '--db',
    db,
  ]);
  const found = spawnSync(process.execPath, similar.argv, { cwd, env: similar.env, encoding: 'utf8' });
  assert.equal(found.status, 0, found.stderr);
  const { results } = JSON.parse(found.stdout) as { results: { photo: { name: string }; score: number }[] };
  assert.equal(results[0].photo.name, 'p1-copy.jpg');
  assert.ok(results[0].score > 0.9, `score ${results[0].score}`);
});

test('the packed browser mode serves the real UI', async () => {
  const serve = packed('serve.js', ['--port', '0', '--db', tempDir('likeness-packaged-serve-')]);
  const child = spawn(process.execPath, serve.argv, { cwd: tempDir(), env: serve.env });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        const m = /Likeness on (\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    });
    const page = await (await fetch(url)).text();
    assert.match(
      page,
      /<script type="module"[^>]+src="\.?\/assets\/index-/,
      'the built renderer, not the placeholder',
    );
  } finally {
    child.kill('SIGTERM');
  }
});
