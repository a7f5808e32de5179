/**
 * The int8 backbone the CPU runs (build:model's QDQ copy, calibrated on generated images) against the
 * fp32 one, on real Holidays photos: close pooled descriptors, and the same retrieval quality.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { decodeImage } from '../../src-main/engine/decode/decode-image';
import { Backbone } from '../../src-main/engine/embed/backbone';
import type { Pooled } from '../../src-main/engine/head/head-types';
import { int8ModelPath } from '../../src-main/engine/model/model-store';
import { DEFAULT_BACKBONE } from '../../src-main/engine/model/model-spec';
import { ensureInt8Model } from '../../src-main/model-build/build-int8';
import { loadDataset, imagePath } from '../../bench/lib/datasets';
import { evalHolidays } from '../../bench/lib/metrics';
import { cosine } from '../helpers/cosine';

const ds = loadDataset(path.resolve('..', 'shared', 'datasets', 'holidays'));

/** SPoC and GeM, each L2-normalised, concatenated and normalised (no learned head). */
function sg(p: Pooled): Float32Array {
  const unit = (v: Float32Array) => {
    const n = Math.hypot(...v) || 1;
    return Array.from(v, (x) => x / n);
  };
  return Float32Array.from([...unit(p.S), ...unit(p.G)], (x) => x / Math.SQRT2);
}

test(
  'int8 backbone: pooled descriptors and retrieval match fp32 on Holidays photos',
  { timeout: 900_000 },
  async (t) => {
    const { manifest } = await ensureInt8Model(DEFAULT_BACKBONE, undefined, (m) => t.diagnostic(m));
    const modelPath = path.resolve('resources', 'models', DEFAULT_BACKBONE, manifest.file);
    const int8Path = int8ModelPath(manifest, modelPath);
    assert.ok(int8Path, 'the int8 model is built and verified');
    // The first 12 query groups (query + positives), a subset small enough for CI.
    const queries = ds.queries!.slice(0, 12);
    const idx = [...new Set(queries.flatMap((q) => [q.query, ...q.positives]))].sort((a, b) => a - b);
    const local = new Map(idx.map((g, i) => [g, i]));
    const size = manifest.input.size;
    const pixels = await Promise.all(
      idx.map(
        async (i) =>
          (await decodeImage(imagePath(ds, i), { input: { size, fit: manifest.input.fit } })).tensor,
      ),
    );
    const fp32 = new Backbone(manifest, modelPath, undefined, ['cpu'], null);
    const int8 = new Backbone(manifest, modelPath, undefined, ['cpu'], int8Path);
    const run = async (b: Backbone) => {
      const out: Pooled[] = [];
      for (let i = 0; i < pixels.length; i += 8) out.push(...(await b.run(pixels.slice(i, i + 8))));
      return out;
    };
    try {
      assert.equal((await int8.warm()).precision, 'int8');
      const [a, b] = [await run(fp32), await run(int8)];
      for (const k of ['S', 'M', 'G'] as const) {
        const cos = a.map((p, i) => cosine(p[k], b[i][k]));
        const worst = Math.min(...cos);
        const mean = cos.reduce((s, c) => s + c, 0) / cos.length;
        t.diagnostic(
          `${k}: cosine mean ${mean.toFixed(5)}, worst ${worst.toFixed(5)} over ${cos.length} photos`,
        );
        assert.ok(mean >= 0.99, `${k}: mean cosine ${mean} < 0.99`);
        assert.ok(worst >= (k === 'M' ? 0.95 : 0.98), `${k}: worst cosine ${worst}`);
      }
      const q = queries.map((x) => ({
        query: local.get(x.query)!,
        positives: x.positives.map((p) => local.get(p)!),
      }));
      const mapA = evalHolidays(a.map(sg), q).mAP;
      const mapB = evalHolidays(b.map(sg), q).mAP;
      t.diagnostic(
        `mAP (SG, no head) on ${idx.length} photos / ${q.length} queries: fp32 ${mapA.toFixed(2)}, int8 ${mapB.toFixed(2)}`,
      );
      // 12 queries move mAP by ~1 point per swapped rank; the whole set (npm run bench:quality --
      // --precision int8) is the quality figure: 80.67 against fp32's 80.55 (docs/model.md).
      assert.ok(mapB >= mapA - 2, `int8 mAP ${mapB} more than 2 points below fp32 ${mapA}`);
    } finally {
      await Promise.all([fp32.close(), int8.close()]);
    }
  },
);
