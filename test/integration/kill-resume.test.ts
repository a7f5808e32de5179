import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Library } from '../../src-main/engine/library';
import { projectBatch } from '../../src-main/engine/head/project';
import { Store } from '../../src-main/engine/store/store';
import { FakeEmbedder } from '../helpers/fake-embedder';
import { makePhoto, tempDir } from '../helpers/images';

const CHILD = path.resolve(import.meta.dirname, '../helpers/index-child.ts');
const N = 40;

/** Runs the child; with killAfter, SIGKILLs it once that many photos were reported committed. */
function runChild(dbDir: string, photoDir: string, delayMs: number, killAfter?: number) {
  // node --import tsx, not npx: the signal must reach the indexing process itself, not a wrapper.
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dbDir, photoDir, String(delayMs)], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ids: number[] = [];
  let stderr = '';
  let buf = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith('indexed ')) ids.push(Number(line.slice(8)));
      if (killAfter !== undefined && ids.length >= killAfter && !child.killed) child.kill('SIGKILL');
    }
  });
  return new Promise<{ ids: number[]; code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ ids, code, signal, stderr })),
  );
}

test('kill -9 mid-index, then resume: nothing lost, nothing duplicated, nothing redone', async () => {
  const photos = tempDir();
  for (let i = 0; i < N; i++) await makePhoto(path.join(photos, `p${i}.jpg`), i);
  const db = tempDir();

  const first = await runChild(db, photos, 60, 10);
  assert.equal(first.signal, 'SIGKILL', first.stderr);

  // The database is consistent after the kill: every indexed photo has its vectors, nothing else does.
  const store = Store.open(db);
  const committed = new Set(store.listPhotos({ status: 'indexed' }).map((p) => p.id));
  assert.ok(committed.size >= 10 && committed.size < N, `committed ${committed.size}`);
  for (const id of first.ids) assert.ok(committed.has(id), `reported photo ${id} is committed`);
  const pooledIds = store.db.prepare('SELECT photo_id FROM pooled').pluck().all() as number[];
  assert.deepEqual(new Set(pooledIds), committed);
  assert.equal(store.counts().pending, N - committed.size);
  store.close();

  const second = await runChild(db, photos, 0);
  assert.equal(second.code, 0, second.stderr);
  for (const id of second.ids) assert.ok(!committed.has(id), `photo ${id} was indexed twice`);
  assert.equal(committed.size + second.ids.length, N);

  const check = Store.open(db);
  assert.deepEqual(check.counts(), { total: N, indexed: N, pending: 0, failed: 0, missing: 0 });
  assert.equal(check.db.prepare('SELECT COUNT(*) FROM pooled').pluck().get(), N);
  assert.equal(check.db.prepare('SELECT COUNT(*) FROM embeddings').pluck().get(), N);
  assert.equal(
    check.listJobs().find((j) => j.status === 'interrupted')?.kind,
    'index',
    'the killed run is recorded as interrupted',
  );
  check.close();

  // and the index answers for every photo
  const lib = await Library.open(db, new FakeEmbedder(), {
    headOps: { projectBatch },
    ann: { exactBelow: 0 },
  });
  await lib.whenIndexReady();
  assert.equal(lib.status().index.size, N);
  const p = lib.photoByPath(path.join(photos, 'p0.jpg'))!;
  assert.equal(lib.similar(p.id, { k: N }).length, N - 1);
  await lib.close();
});
