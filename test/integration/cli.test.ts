import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXIT, main, parseCliArgs } from '../../src-main/cli/likeness';
import { projectBatch } from '../../src-main/engine/head/project';
import { FakeEmbedder } from '../helpers/fake-embedder';
import { makePhoto, tempDir } from '../helpers/images';

const ROOT = path.resolve(import.meta.dirname, '../..');
// bin/likeness.js runs the bundle in dist/main, which `npm test` builds first (build:main).

function capture() {
  const s = new PassThrough();
  let text = '';
  s.on('data', (d) => (text += d));
  return { stream: s, text: () => text };
}

async function run(argv: string[], onInterrupt?: (fn: () => void) => () => void) {
  const out = capture();
  const err = capture();
  const code = await main(argv, {
    createEmbedder: async () => new FakeEmbedder(),
    libraryOptions: { headOps: { projectBatch } },
    stdout: out.stream,
    stderr: err.stream,
    onInterrupt,
  });
  return { code, out: out.text(), err: err.text() };
}

test('argument parsing: defaults, flags, usage errors', () => {
  const a = parseCliArgs(['similar', 'x.jpg', '-k', '5', '--json', '--db', '/tmp/db'], {});
  assert.deepEqual([a.command, a.positional, a.k, a.json, a.db], ['similar', ['x.jpg'], 5, true, '/tmp/db']);
  assert.equal(parseCliArgs(['status'], { LIKENESS_DB: '/tmp/env-db' }).db, '/tmp/env-db');
  assert.throws(() => parseCliArgs(['similar', '-k', '0']), /-k must be/);
  assert.throws(() => parseCliArgs(['duplicates', '--threshold', '2']), /--threshold must be/);
  assert.throws(() => parseCliArgs(['status', '--frobnicate']), /unknown option/);
});

interface Hit {
  photo: { id: number; name: string; path: string };
  score: number;
}

test('index, status, similar, search, duplicates with --json print the API’s shapes', async () => {
  const photos = tempDir();
  for (let i = 0; i < 8; i++) await makePhoto(path.join(photos, `p${i}.jpg`), i);
  fs.copyFileSync(path.join(photos, 'p2.jpg'), path.join(photos, 'p2-copy.jpg'));
  fs.writeFileSync(path.join(photos, 'broken.jpg'), 'not an image');
  const db = tempDir();

  const idx = await run(['index', photos, '--db', db, '--json']);
  assert.equal(idx.code, EXIT.ok, idx.err);
  const summary = JSON.parse(idx.out);
  assert.equal(summary.state, 'done');
  // "photos" are files that were read or wait to be: the unreadable one is counted apart, as failed
  assert.deepEqual(summary.photos, { total: 9, indexed: 9, pending: 0, failed: 1, missing: 0 });
  assert.deepEqual([summary.newlyIndexed, summary.newlyFailed], [9, 1]);
  assert.match(summary.failures[0].error, /broken\.jpg/);
  assert.equal(summary.failures[0].path, path.join(fs.realpathSync(photos), 'broken.jpg'));

  const st = await run(['status', '--db', db, '--json']);
  assert.equal(st.code, EXIT.ok, st.err);
  const status = JSON.parse(st.out);
  assert.deepEqual(
    [status.status.photos.indexed, status.status.photos.pending, status.status.photos.failed],
    [9, 0, 1],
  );
  assert.deepEqual(
    status.folders.map((f: { photoCount: number; unreadable: number }) => [f.photoCount, f.unreadable]),
    [[9, 1]],
  );
  // No command here loaded the model: the device is the one it would run on.
  assert.equal(status.status.provider, null);
  assert.equal(status.device.loaded, false);
  assert.ok(
    ['cpu', 'cuda', 'webgpu', 'dml', 'coreml'].includes(status.device.provider),
    status.device.provider,
  );

  const sim = await run(['similar', path.join(photos, 'p2.jpg'), '-k', '3', '--json', '--db', db]);
  assert.equal(sim.code, EXIT.ok, sim.err);
  const hits = (JSON.parse(sim.out) as { results: Hit[] }).results;
  assert.equal(hits.length, 3);
  assert.equal(hits[0].photo.name, 'p2-copy.jpg');
  assert.equal(hits[0].photo.path, path.join(fs.realpathSync(photos), 'p2-copy.jpg'));
  assert.ok(hits[0].score > 0.999 && hits[0].score >= hits[1].score && hits[1].score >= hits[2].score);

  const outside = path.join(tempDir(), 'q.png');
  await makePhoto(outside, 5, { format: 'png' });
  const search = await run(['search', outside, '-k', '2', '--json', '--db', db]);
  assert.equal(search.code, EXIT.ok, search.err);
  assert.equal((JSON.parse(search.out) as { results: Hit[] }).results[0].photo.name, 'p5.jpg');

  const dup = await run(['duplicates', '--threshold', '0.999', '--json', '--db', db]);
  assert.equal(dup.code, EXIT.ok, dup.err);
  type Group = { kind: string; photos: { photo: { path: string }; copyOf: number | null }[] };
  const groups = (JSON.parse(dup.out) as { groups: Group[] }).groups.filter((g) => g.kind === 'copies');
  assert.equal(groups.length, 1);
  assert.deepEqual(groups[0].photos.map((h) => path.basename(h.photo.path)).sort(), [
    'p2-copy.jpg',
    'p2.jpg',
  ]);
  assert.equal(groups[0].photos.filter((h) => h.copyOf !== null).length, 1);

  const text = await run(['similar', path.join(photos, 'p2.jpg'), '-k', '1', '--db', db]);
  assert.match(text.out, /^1\.0000\t.*p2-copy\.jpg\n$/);
  const statusText = await run(['status', '--db', db]);
  assert.match(statusText.out, /^device {4}(CPU|GPU|Apple)/m);

  const absent = await run(['similar', '/nowhere/x.jpg', '--db', db]);
  assert.equal(absent.code, EXIT.error);
  assert.match(absent.err, /\/nowhere\/x\.jpg: no such file/);
  const notIn = await run(['similar', outside, '--db', db]);
  assert.equal(notIn.code, EXIT.error);
  assert.match(notIn.err, /q\.png is not in the library/);
  const searchAbsent = await run(['search', '/nowhere/x.jpg', '--db', db]);
  assert.match(searchAbsent.err, /\/nowhere\/x\.jpg: no such file/);
  const badImage = await run(['search', path.join(photos, 'broken.jpg'), '--db', db]);
  assert.equal(badImage.code, EXIT.error);
  assert.match(badImage.err, /broken\.jpg/);
});

test('Ctrl-C during index cancels with exit code 130, and a rerun finishes the job', async () => {
  const photos = tempDir();
  for (let i = 0; i < 12; i++) await makePhoto(path.join(photos, `p${i}.jpg`), i);
  const db = tempDir();
  let interrupt: () => void = () => {};
  const out = capture();
  const err = capture();
  const running = main(['index', photos, '--db', db], {
    createEmbedder: async () => new FakeEmbedder({ delayMs: 30 }),
    libraryOptions: { headOps: { projectBatch }, indexer: { batchSize: 1 } },
    stdout: out.stream,
    stderr: err.stream,
    onInterrupt: (fn) => ((interrupt = fn), () => {}),
  });
  await new Promise((r) => setTimeout(r, 150));
  interrupt();
  assert.equal(await running, EXIT.cancelled);
  assert.match(err.text(), /cancelled/);
  const again = await run(['index', photos, '--db', db, '--json']);
  assert.equal(again.code, EXIT.ok);
  assert.equal(JSON.parse(again.out).photos.indexed, 12);
});

test('bin/likeness.js: usage errors exit 2, help exits 0', () => {
  const bad = spawnSync(process.execPath, ['bin/likeness.js', 'frobnicate'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(bad.status, EXIT.usage);
  assert.match(bad.stderr, /unknown command "frobnicate"/);
  const help = spawnSync(process.execPath, ['bin/likeness.js', '--help'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(help.status, EXIT.ok);
  assert.match(help.stdout, /likeness index DIR/);
  const noArg = spawnSync(process.execPath, ['bin/likeness.js', 'similar'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, LIKENESS_DB: tempDir() },
  });
  assert.equal(noArg.status, EXIT.usage);
});

test('index with a modified model file: a clear error, exit 1, and the photos stay pending', async () => {
  const { createDefaultEmbedder } = await import('../../src-main/engine/embed/default-embedder');
  const { defaultModelsDir, loadInstalledModel } = await import('../../src-main/engine/model/model-store');
  const { manifest } = loadInstalledModel();
  const models = tempDir();
  const dir = path.join(models, manifest.id);
  fs.mkdirSync(dir);
  fs.copyFileSync(
    path.join(defaultModelsDir(), manifest.id, 'manifest.json'),
    path.join(dir, 'manifest.json'),
  );
  fs.writeFileSync(path.join(dir, manifest.file), 'not the model');
  const photos = tempDir();
  for (let i = 0; i < 3; i++) await makePhoto(path.join(photos, `p${i}.jpg`), i);
  const db = tempDir();
  const out = capture();
  const err = capture();
  const code = await main(['index', photos, '--db', db, '--json'], {
    createEmbedder: (options) => createDefaultEmbedder({ ...options, modelsDir: models }),
    stdout: out.stream,
    stderr: err.stream,
  });
  assert.equal(code, EXIT.error);
  assert.match(err.text(), /indexing stopped: Model file .* does not match its manifest/);
  const st = await run(['status', '--db', db, '--json']);
  assert.deepEqual(JSON.parse(st.out).status.photos, {
    total: 3,
    indexed: 0,
    pending: 3,
    failed: 0,
    missing: 0,
  });
});
