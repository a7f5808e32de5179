/**
 * The engine's layout reads as its data flow: each layer imports only layers below it (or itself), the
 * engine never imports Electron, and the API layer maps errors by their code, never by their message.
 * The checks run on the source text, and each is first shown to catch a planted violation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';

const ENGINE = path.resolve(import.meta.dirname, '../../src-main/engine');

/**
 * Lowest first. Photos flow decode → embed → store → index → query; the model and the head are what
 * embedding runs on; scan sits just above the store it writes rows to; fine-tuning trains on stored
 * vectors; the pipeline drives a whole indexing run; the Library owns all of it; the API maps the
 * Library to the contract; the host carries the API across a thread or process boundary.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['decode'],
  ['model'],
  ['head'],
  ['embed'],
  ['store'],
  ['scan'],
  ['index'],
  ['query'],
  ['finetune'],
  ['pipeline'],
  ['library.ts', 'recover.ts'],
  ['api'],
  ['host'],
];
/** Shared leaves: anything may import them; they import only each other. */
const SHARED = new Set(['errors.ts', 'config.ts', 'log', 'runtime']);
/** Code outside the engine it may use: the libuv-pool bootstrap and the build-time model compiler. */
const OUTSIDE_ALLOWED = ['src-main/boot/', 'src-main/model-build/'];

/** The top-level entry (directory, or file with its extension) of the engine a path is in. */
function unitOf(file: string): string {
  const first = path.relative(ENGINE, file).split(path.sep)[0];
  return fs.existsSync(path.join(ENGINE, first)) ? first : `${first}.ts`;
}

function layerOf(unit: string): number {
  const i = LAYERS.findIndex((l) => l.includes(unit));
  if (i < 0) throw new Error(`${unit} is in no layer of test/unit/layout.test.ts: place it`);
  return i;
}

/** Every module specifier a source imports or re-exports (static, dynamic, side-effect, require). */
function specifiers(source: string): string[] {
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) out.push(m[1]);
  return out;
}

/** What is wrong with one engine file's imports, in words (empty: nothing). */
function importProblems(file: string, source: string): string[] {
  const problems: string[] = [];
  const from = unitOf(file);
  const rel = path.relative(ENGINE, file);
  for (const spec of specifiers(source)) {
    if (spec === 'electron' || spec.startsWith('electron/')) {
      problems.push(`${rel} imports ${spec}: the engine must run without Electron`);
      continue;
    }
    if (!spec.startsWith('.')) continue; // packages and node: builtins
    const target = path.resolve(path.dirname(file), spec);
    if (!target.startsWith(ENGINE + path.sep)) {
      const outside = path.relative(path.resolve(ENGINE, '../..'), target).split(path.sep).join('/');
      if (!OUTSIDE_ALLOWED.some((p) => outside.startsWith(p)))
        problems.push(`${rel} imports ${outside}, outside the engine`);
      continue;
    }
    const toUnit = unitOf(target);
    if (toUnit === from || SHARED.has(toUnit)) continue;
    if (SHARED.has(from)) {
      problems.push(`${rel} is a shared leaf but imports ${spec} (${toUnit})`);
      continue;
    }
    if (layerOf(toUnit) > layerOf(from))
      problems.push(`${rel} (layer ${from}) imports ${spec}, in ${toUnit}, a layer above it`);
  }
  return problems;
}

/** Error messages matched by a regular expression (the API maps errors by code: api/api-errors.ts). */
function messageMatching(rel: string, source: string): string[] {
  const patterns = [
    // /…/.test(error.message), .match / .search / .replace on a message
    /\/[^/\n]+\/[a-z]*\.test\(\s*[^)]*\bmessage\b/g,
    /\bmessage\b\s*\)?\s*\.(?:match|matchAll|search|replace|replaceAll)\(\s*\//g,
    /\bmessage\b\s*\)?\s*\.(?:match|matchAll|search)\(/g,
  ];
  return patterns.flatMap((re) =>
    [...source.matchAll(re)].map((m) => `${rel} matches an error message by regex: ${m[0].trim()}`),
  );
}

function engineFiles(dir = ENGINE): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return engineFiles(full);
    return /\.(ts|cts|mts)$/.test(e.name) ? [full] : [];
  });
}

test('layout checks catch planted violations (so that passing means something)', () => {
  const at = (rel: string) => path.join(ENGINE, rel);
  assert.match(
    importProblems(at('store/x.ts'), "import { Indexer } from '../pipeline/indexer';")[0],
    /layer above/,
  );
  assert.deepEqual(importProblems(at('head/x.ts'), "export type { Box } from '../decode/box';"), []);
  assert.match(
    importProblems(at('decode/x.ts'), "const m = await import('../embed/backbone');")[0],
    /layer above/,
  );
  assert.match(importProblems(at('query/x.ts'), "import { app } from 'electron';")[0], /without Electron/);
  assert.match(
    importProblems(at('library.ts'), "import type { BrowserWindow } from 'electron/main';")[0],
    /Electron/,
  );
  assert.match(importProblems(at('log/x.ts'), "import { Store } from '../store/store';")[0], /shared leaf/);
  assert.match(
    importProblems(at('api/x.ts'), "import { ipcMain } from '../../electron/ipc';")[0],
    /outside the engine/,
  );
  assert.deepEqual(importProblems(at('api/x.ts'), "import { Library } from '../library';"), []);
  assert.equal(messageMatching('api/x.ts', 'if (/not found/i.test(error.message)) code = 1;').length, 1);
  assert.equal(messageMatching('api/x.ts', 'const m = err.message.match(/id (\\d+)/);').length >= 1, true);
  assert.deepEqual(messageMatching('api/x.ts', 'if (!/^[1-9][0-9]*$/.test(segment)) return null;'), []);
});

test('no engine module imports one above it in the data flow, nor Electron', () => {
  const problems = engineFiles().flatMap((f) => importProblems(f, fs.readFileSync(f, 'utf8')));
  assert.deepEqual(problems, []);
});

test('every engine directory and top-level file has a place in the layers', () => {
  const units = fs.readdirSync(ENGINE).filter((u) => !SHARED.has(u));
  for (const u of units) layerOf(u);
});

test('the API layer maps errors by code, never by matching their messages', () => {
  const api = path.join(ENGINE, 'api');
  const problems = engineFiles(api).flatMap((f) =>
    messageMatching(path.relative(ENGINE, f), fs.readFileSync(f, 'utf8')),
  );
  assert.deepEqual(problems, []);
});
