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

test('index, status, similar, search, duplicates with --json', async () => {
  const photos = tempDir();
  for (let i = 0; i < 8; i++) await makePhoto(path.join(photos, `p${i}.jpg`), i);
  fs.copyFileSync(path.join(photos, 'p2.jpg'), path.join(photos, 'p2-copy.jpg'));
  fs.writeFileSync(path.join(photos, 'broken.jpg'), 'not an image');
  const db = tempDir();

  const idx = await run(['index', photos, '--db', db, '--json']);
  assert.equal(idx.code, EXIT.ok, idx.err);
  const summary = JSON.parse(idx.out);
  assert.deepEqual([summary.state, summary.indexed, summary.failed, summary.pending], ['done', 9, 1, 0]);
  assert.match(summary.failures[0].error, /broken\.jpg/);

  const st = await run(['status', '--db', db, '--json']);
  assert.equal(st.code, EXIT.ok);
  const status = JSON.parse(st.out);
  assert.deepEqual([status.indexed, status.pending, status.failed], [9, 0, 1]);

  const sim = await run(['similar', path.join(photos, 'p2.jpg'), '-k', '3', '--json', '--db', db]);
  assert.equal(sim.code, EXIT.ok, sim.err);
  const hits = JSON.parse(sim.out) as { path: string; score: number }[];
  assert.equal(hits.length, 3);
  assert.deepEqual(Object.keys(hits[0]).sort(), ['path', 'score']);
  assert.equal(hits[0].path, path.join(photos, 'p2-copy.jpg'));
  assert.ok(path.isAbsolute(hits[0].path));
  assert.ok(hits[0].score > 0.999 && hits[0].score >= hits[1].score && hits[1].score >= hits[2].score);

  const outside = path.join(tempDir(), 'q.png');
  await makePhoto(outside, 5, { format: 'png' });
  const search = await run(['search', outside, '-k', '2', '--json', '--db', db]);
  assert.equal(search.code, EXIT.ok, search.err);
  assert.equal(JSON.parse(search.out)[0].path, path.join(photos, 'p5.jpg'));

  const dup = await run(['duplicates', '--threshold', '0.999', '--json', '--db', db]);
  assert.equal(dup.code, EXIT.ok);
  const groups = (
    JSON.parse(dup.out) as { kind: string; photos: { path: string; copyOf: string | null }[] }[]
  ).filter((g) => g.kind === 'copies');
  assert.equal(groups.length, 1);
  assert.deepEqual(groups[0].photos.map((h) => path.basename(h.path)).sort(), ['p2-copy.jpg', 'p2.jpg']);
  assert.equal(groups[0].photos.filter((h) => h.copyOf !== null).length, 1);

  const text = await run(['similar', path.join(photos, 'p2.jpg'), '-k', '1', '--db', db]);
  assert.match(text.out, /^1\.0000\t.*p2-copy\.jpg\n$/);

  const notIn = await run(['similar', '/nowhere/x.jpg', '--db', db]);
  assert.equal(notIn.code, EXIT.error);
  assert.match(notIn.err, /not in the library/);
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
  assert.equal(JSON.parse(again.out).indexed, 12);
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
