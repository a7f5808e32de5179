import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { once } from 'node:events';
import { createEngineApi } from '../../src-main/engine/api/engine-api';
import { startTrainingWorker } from '../../src-main/engine/finetune/run-in-worker';
import { learnWhiteningHead } from '../../src-main/engine/head/whitening';
import { callbackSink, createLogger, fileSink, formatLine } from '../../src-main/engine/log/logger';
import { RotatingFile } from '../../src-main/engine/log/rotating-file';
import { ServingThreadWatch, type Stall } from '../../src-main/engine/log/serving-thread';
import { spawnModuleWorker } from '../../src-main/engine/runtime/module-worker';
import { FakeEmbedder } from '../helpers/fake-embedder';
import { tempDir } from '../helpers/images';
import { syntheticPooled } from './finetune-fixtures';

test('the log file rotates past its size and keeps only its generations, newest lines last', () => {
  const file = path.join(tempDir(), 'logs', 'x.log');
  const log = new RotatingFile(file, { maxBytes: 100, generations: 2 });
  const lines = Array.from(
    { length: 20 },
    (_, i) => `line ${String(i).padStart(2, '0')} ${'.'.repeat(16)}\n`,
  );
  for (const l of lines) log.write(l); // 25 bytes each: 4 per file
  log.close();
  const files = fs.readdirSync(path.dirname(file)).sort();
  assert.deepEqual(files, ['x.log', 'x.log.1', 'x.log.2']);
  for (const f of files) assert.ok(fs.statSync(path.join(path.dirname(file), f)).size <= 100, f);
  const kept = ['x.log.2', 'x.log.1', 'x.log'].map((f) =>
    fs.readFileSync(path.join(path.dirname(file), f), 'utf8'),
  );
  assert.equal(
    kept.join(''),
    lines.slice(8).join(''),
    'the last 12 lines, in order; the first 8 rotated out',
  );
  log.write('after close\n');
  assert.ok(!fs.readFileSync(file, 'utf8').includes('after close'), 'a closed log writes nothing');
});

test('levels filter, scopes tag, multi-line messages stay one entry', () => {
  const seen: string[] = [];
  const dir = tempDir();
  const sink = fileSink(dir);
  const log = createLogger([callbackSink((m) => seen.push(m)), sink], 'info');
  log.debug('not kept');
  log.info('kept');
  log.child('backbone').warn('two\nlines');
  sink.close?.();
  assert.deepEqual(seen, ['kept', 'backbone: two\nlines']);
  const text = fs.readFileSync(sink.file, 'utf8');
  assert.equal(sink.file, path.join(dir, 'logs', 'likeness.log'));
  assert.match(text, /^\S+Z INFO {2}kept\n\S+Z WARN {2}\[backbone\] two\n {4}lines\n$/);
  assert.equal(formatLine('error', null, 'x', new Date(0)), '1970-01-01T00:00:00.000Z ERROR x\n');
});

test('an operation that holds the serving thread past the threshold is logged under its name', async () => {
  const seen: string[] = [];
  let stalled!: (s: Stall) => void;
  const stall = new Promise<Stall>((resolve) => (stalled = resolve));
  const watch = new ServingThreadWatch(
    createLogger([callbackSink((m) => seen.push(m))], 'info'),
    40,
    10,
    stalled,
  ).start();
  const api = watch.wrap({
    quick: async () => 1,
    similar: async () => {
      const until = performance.now() + 120;
      while (performance.now() < until); // a synchronous scan, as an exact search is
      return 2;
    },
  });
  try {
    assert.equal(await api.quick(), 1);
    assert.equal(await api.similar(), 2);
    const s = await stall;
    assert.ok(s.ms >= 40 && s.ms < 2000, `held ${s.ms} ms`);
    assert.deepEqual(s.operations, ['similar']);
    assert.match(seen.join('\n'), /slow: the serving thread was held \d+ ms \(during: similar\)/);
  } finally {
    watch.stop();
  }
});

test("a worker's printed lines reach the log", async () => {
  const lines: string[] = [];
  let both!: () => void;
  const printed = new Promise<void>((resolve) => (both = resolve));
  const worker = spawnModuleWorker(
    new URL('../helpers/x.ts', import.meta.url).href,
    './echo.worker',
    null,
    (l) => {
      lines.push(l);
      if (lines.length === 2) both();
    },
  );
  const thread = worker.threadId;
  await printed;
  await once(worker, 'exit');
  assert.deepEqual(lines.sort(), ['a warning on stderr', `hello from thread ${thread}`].sort());
});

test('the fine-tune worker reports into the log, from its own thread', async () => {
  const { pooled, labels } = syntheticPooled(6, 10, 16);
  const initHead = learnWhiteningHead(pooled, { combo: 'SG', dim: 8 });
  const lines: string[] = [];
  const handle = startTrainingWorker(
    { pooled, labels, initHead, options: { maxEpochs: 2, patience: 100 } },
    { log: (l) => lines.push(l) },
  );
  await handle.result;
  assert.match(lines[0], /^thread (\d+): training on 60 photos in 6 albums$/);
  assert.notEqual(Number(/^thread (\d+)/.exec(lines[0])![1]), 0, 'not the main thread');
  assert.match(
    lines.at(-1)!,
    /^finished in \d+ ms: held-out R@1 [\d.]+ → [\d.]+ \(best epoch \d+\), (not )?adopted/,
  );
});

test('the engine writes its log file in the library folder', async () => {
  const dir = tempDir();
  const engine = await createEngineApi({
    dbDir: dir,
    trash: async () => {},
    log: () => {},
    createEmbedder: async () => new FakeEmbedder(),
    library: { watch: false },
  });
  await engine.api.listFolders({});
  await engine.close();
  const text = fs.readFileSync(path.join(dir, 'logs', 'likeness.log'), 'utf8');
  assert.match(text, /INFO {2}library opened: 0 photos \(0 indexed\), head v\d+, .*\(\w+ expected\)/);
});
