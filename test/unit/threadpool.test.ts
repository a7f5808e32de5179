import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { decodeConcurrency, sizeThreadPool, threadPoolSize } from '../../src-main/boot/threadpool.cjs';
import { DEFAULT_INDEXER_OPTIONS } from '../../src-main/engine/pipeline/indexer';

const root = path.resolve(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);

test('decode concurrency and the pool follow the core count', () => {
  assert.equal(decodeConcurrency(1), 3);
  assert.equal(decodeConcurrency(2), 3);
  assert.equal(decodeConcurrency(16), 24);
  assert.equal(threadPoolSize(2), 5);
  assert.equal(threadPoolSize(16), 26);
  assert.ok(threadPoolSize(4096) <= 1024, "libuv's maximum");
  assert.equal(DEFAULT_INDEXER_OPTIONS.decodeConcurrency, decodeConcurrency());
  assert.ok(DEFAULT_INDEXER_OPTIONS.queueCapacity >= DEFAULT_INDEXER_OPTIONS.decodeConcurrency);
});

test("sizeThreadPool keeps the user's UV_THREADPOOL_SIZE", () => {
  const env: NodeJS.ProcessEnv = { UV_THREADPOOL_SIZE: '7' };
  assert.equal(sizeThreadPool(env), 7);
  const empty: NodeJS.ProcessEnv = {};
  assert.equal(sizeThreadPool(empty), threadPoolSize());
  assert.equal(empty.UV_THREADPOOL_SIZE, String(threadPoolSize()));
});

/** Threads of a Node process after its pool started, with the bootstrap run first (Linux: /proc). */
function threadsAfterPoolStart(env: NodeJS.ProcessEnv): number {
  const script = `require(${JSON.stringify(path.join(root, 'src-main/boot/threadpool.cjs'))}).sizeThreadPool();
require('node:fs').readFile(__filename, () => console.log(require('node:fs').readdirSync('/proc/self/task').length));`;
  const r = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

test(
  'the CommonJS bootstrap sizes the pool before it starts',
  { skip: !fs.existsSync('/proc/self/task') },
  () => {
    const { UV_THREADPOOL_SIZE: _, ...env } = process.env;
    const sized = threadsAfterPoolStart(env);
    const four = threadsAfterPoolStart({ ...env, UV_THREADPOOL_SIZE: '4' });
    const wide = threadsAfterPoolStart({ ...env, UV_THREADPOOL_SIZE: '12' });
    assert.equal(wide - four, 8, 'one thread per pool slot');
    assert.equal(sized - four, threadPoolSize() - 4);
  },
);

test('every entry point goes through the bootstrap', () => {
  const pkg = require(path.join(root, 'package.json')) as { main: string; bin: { likeness: string } };
  assert.equal(pkg.bin.likeness, 'bin/likeness.cjs');
  assert.equal(pkg.main, 'dist/main/electron-boot.cjs');
  for (const file of ['bin/likeness.cjs', 'src-main/boot/electron-boot.cjs', 'scripts/start.js'])
    assert.match(
      fs.readFileSync(path.join(root, file), 'utf8'),
      /threadpool\.cjs'\)\.sizeThreadPool\(\)/,
      file,
    );
});
