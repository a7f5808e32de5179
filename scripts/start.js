#!/usr/bin/env node
// `npm start`: the desktop app where Electron's binary is installed, browser mode otherwise.
// Builds what is missing first (model, renderer, main bundles). Extra arguments go to `likeness serve`
// in browser mode, e.g. `npm start -- --port 8080 --db ~/likeness-test`.
// Plain JavaScript on purpose: it must run before anything is compiled.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const node = process.execPath;
const tsx = path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const args = process.argv.slice(2);
// The app's processes size libuv's pool (sharp decodes there) before it starts: see src-main/boot/threadpool.cjs.
require('../src-main/boot/threadpool.cjs').sizeThreadPool();

function say(line) {
  console.error(`[likeness] ${line}`);
}

function run(what, argv) {
  say(what);
  const result = spawnSync(node, argv, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    say(`${what} failed (exit ${result.status ?? result.signal}).`);
    process.exit(result.status || 1);
  }
}

/** Electron's npm package resolves to its binary's path, or throws when the download did not happen. */
function electronBinary() {
  try {
    const binary = require('electron');
    if (typeof binary === 'string' && fs.existsSync(binary)) return { binary };
  } catch {
    // not downloaded
  }
  return {
    why: "Electron's binary is not installed (offline install); run `npm run fetch:electron` to get it",
  };
}

function hasDisplay() {
  return process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

function isEmptyDir(dir) {
  return !fs.existsSync(dir) || fs.readdirSync(dir).filter((f) => !f.startsWith('.')).length === 0;
}

// 1. The default model is built from the nsfwjs weights, not downloaded.
if (
  isEmptyDir(path.join(root, 'resources', 'models')) &&
  fs.existsSync(path.join(root, 'scripts', 'build-model.ts'))
) {
  run('Building the default model (once)…', [tsx, 'scripts/build-model.ts']);
}

// 2. The renderer.
if (!fs.existsSync(path.join(root, 'dist', 'renderer', 'index.html'))) {
  const config = path.join('src-renderer', 'vite.config.ts');
  if (fs.existsSync(path.join(root, config))) {
    run('Building the user interface (once)…', [
      path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--config',
      config,
    ]);
  } else {
    say(`${config} does not exist yet: starting without a user interface (the API still works).`);
  }
}

// 3. The main-process bundles (cheap: always rebuilt so they match the sources).
run('Bundling the main process…', [tsx, 'scripts/build-main.ts']);

// 4. Launch.
const electron = electronBinary();
const useElectron = electron.binary && hasDisplay();
if (electron.binary && !hasDisplay())
  say('No display found (DISPLAY/WAYLAND_DISPLAY unset): using browser mode.');
if (!electron.binary) say(`${electron.why}. Starting browser mode instead.`);

let child;
if (useElectron) {
  child = spawn(electron.binary, ['.'], { cwd: root, stdio: 'inherit' });
} else {
  const serveArgs = [...(args.includes('--port') ? [] : ['--port', '0']), ...args];
  child = spawn(node, [path.join(root, 'dist', 'main', 'serve.js'), ...serveArgs], {
    cwd: root,
    stdio: 'inherit',
  });
  say('Browser mode: open the address it prints (it ends in ?token=…). Ctrl-C stops the server.');
}
// The terminal's Ctrl-C reaches the child too; wait for it to shut down cleanly.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
