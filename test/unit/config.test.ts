import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  ENV_VARS,
  envInteger,
  envValue,
  forcedProvider,
  logLevel,
  slowOperationMs,
} from '../../src-main/engine/config';
import { defaultLibraryDir } from '../../src-main/engine/api/library-dir';
import { preferredProviders } from '../../src-main/engine/runtime/execution-provider';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|js|cjs|mjs|svelte)$/.test(e.name) ? [p] : [];
  });
}

test('the README table lists every variable, in the words of config.ts, and nothing else', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const rows = [...readme.matchAll(/^\| `(LIKENESS_[A-Z0-9_]+)` \| (.*) \|$/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(Object.fromEntries(rows), ENV_VARS);
});

test('no module but config.ts reads a LIKENESS_ variable', () => {
  const own = path.join(root, 'src-main', 'engine', 'config.ts');
  const readers: string[] = [];
  for (const dir of ['src-main', 'src-renderer/src', 'test', 'bench', 'scripts', 'bin']) {
    if (!fs.existsSync(path.join(root, dir))) continue;
    for (const file of sourceFiles(path.join(root, dir))) {
      if (file === own || file === fileURLToPath(import.meta.url)) continue;
      // a read: env.LIKENESS_X or env['LIKENESS_X'] (setting one in an object literal is fine)
      if (/\benv(\.|\[['"`])LIKENESS_/.test(fs.readFileSync(file, 'utf8')))
        readers.push(path.relative(root, file));
    }
  }
  assert.deepEqual(readers, []);
});

test('every declared variable is used somewhere outside config.ts', () => {
  const used = new Set<string>();
  for (const dir of ['src-main', 'test', 'bench', 'scripts']) {
    for (const file of sourceFiles(path.join(root, dir))) {
      if (file.endsWith(path.join('engine', 'config.ts')) || file === fileURLToPath(import.meta.url))
        continue;
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/'(LIKENESS_[A-Z0-9_]+)'/g)) used.add(m[1]);
    }
  }
  // read through config.ts's typed helpers rather than by name
  for (const name of ['LIKENESS_PROVIDER', 'LIKENESS_LOG_LEVEL', 'LIKENESS_SLOW_MS']) used.add(name);
  assert.deepEqual(
    Object.keys(ENV_VARS).filter((n) => !used.has(n)),
    [],
  );
});

test('values: empty is unset, bad values are clear errors', () => {
  assert.equal(envValue('LIKENESS_DB', { LIKENESS_DB: '' }), undefined);
  assert.equal(envValue('LIKENESS_DB', { LIKENESS_DB: '/x' }), '/x');
  assert.equal(defaultLibraryDir({ LIKENESS_DB: 'rel' }), path.resolve('rel'));
  assert.notEqual(defaultLibraryDir({ LIKENESS_DB: '' }), path.resolve(''));

  assert.equal(forcedProvider({}), undefined);
  assert.equal(forcedProvider({ LIKENESS_PROVIDER: 'cpu' }), 'cpu');
  assert.throws(() => forcedProvider({ LIKENESS_PROVIDER: 'gpu' }), /LIKENESS_PROVIDER=gpu is not one of/);
  assert.deepEqual(preferredProviders('linux', 'x64', forcedProvider({ LIKENESS_PROVIDER: 'cuda' })), [
    'cuda',
    'cpu',
  ]);

  assert.equal(logLevel({}), 'info');
  assert.equal(logLevel({ LIKENESS_LOG_LEVEL: 'debug' }), 'debug');
  assert.throws(() => logLevel({ LIKENESS_LOG_LEVEL: 'loud' }), /LIKENESS_LOG_LEVEL=loud/);

  assert.equal(slowOperationMs({}), 40);
  assert.equal(slowOperationMs({ LIKENESS_SLOW_MS: '5' }), 5);
  assert.throws(() => slowOperationMs({ LIKENESS_SLOW_MS: 'fast' }), /LIKENESS_SLOW_MS=fast/);

  assert.equal(envInteger('LIKENESS_E2E_GROUPS', 30, 1, {}), 30);
  assert.equal(envInteger('LIKENESS_E2E_GROUPS', 30, 1, { LIKENESS_E2E_GROUPS: '4' }), 4);
  assert.throws(() => envInteger('LIKENESS_E2E_GROUPS', 30, 1, { LIKENESS_E2E_GROUPS: '0' }), /≥ 1/);
});
