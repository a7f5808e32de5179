import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import hnswlib from 'hnswlib-node';
import { gaussian, makeRng } from '../../src-main/engine/finetune/rng';
import { readHnswBaseLayer } from '../../src-main/engine/index/hnsw-file';
import { l2normalize } from '../../src-main/engine/index/vector-math';
import { scanDuplicates } from '../../src-main/engine/query/duplicate-scan';
import { tempDir } from '../helpers/images';

const DIM = 32;

test('the base layer read from a saved hnswlib graph gives back labels, vectors and deleted flags; the scan links the planted pairs', () => {
  const rng = makeRng(5);
  const h = new hnswlib.HierarchicalNSW('ip', DIM);
  h.initIndex({ maxElements: 600, m: 8, efConstruction: 64 });
  const vecs = new Map<number, Float32Array>();
  // 500 random photos (labels 1000…), and a near-copy of every 50th (labels 5000…)
  for (let i = 0; i < 500; i++) {
    const v = l2normalize(Float32Array.from({ length: DIM }, () => gaussian(rng)));
    vecs.set(1000 + i, v);
    h.addPoint(Array.from(v), 1000 + i);
    if (i % 50 === 0) {
      const copy = l2normalize(v.map((x) => x + 0.02 * gaussian(rng)));
      vecs.set(5000 + i, copy);
      h.addPoint(Array.from(copy), 5000 + i);
    }
  }
  h.markDelete(5000 + 450);
  const file = path.join(tempDir(), 'g.hnsw');
  h.writeIndexSync(file);
  const g = readHnswBaseLayer(fs.readFileSync(file), DIM);
  assert.equal(g.count, 510);
  for (let i = 0; i < g.count; i++) {
    const want = vecs.get(g.label(i))!;
    assert.ok(want, `label ${g.label(i)} is one we added`);
    assert.ok(Math.abs(g.vector(i)[3] - want[3]) < 1e-7);
    assert.equal(g.deleted(i), g.label(i) === 5450);
    assert.ok(g.neighbours(i).length > 0 && g.neighbours(i).every((j) => j < g.count && j !== i));
  }
  const scan = scanDuplicates(g, 0.95);
  const pairs = scan.groups.map((grp) => [...grp].sort((a, b) => a - b).join('-')).sort();
  const want = Array.from({ length: 9 }, (_, k) => `${1000 + 50 * k}-${5000 + 50 * k}`).sort();
  assert.deepEqual(pairs, want, 'every planted pair but the deleted one, and nothing else');
  for (const id of scan.groups.flat())
    assert.ok(
      Math.abs(scan.vector(id)[3] - vecs.get(id)![3]) < 1e-7,
      'the vector the photo was scanned with',
    );
  assert.throws(() => readHnswBaseLayer(fs.readFileSync(file), DIM + 1), /layout not understood/);
  assert.throws(() => readHnswBaseLayer(fs.readFileSync(file).subarray(0, 5000), DIM), /truncated/);
});
