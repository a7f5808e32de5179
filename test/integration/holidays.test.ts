import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Library } from '../../src-main/engine/library';
import type { PhotoEmbedder } from '../../src-main/engine/embed/photo-embedder';
import { tempDir } from '../helpers/images';

const HOLIDAYS = path.resolve(import.meta.dirname, '../../../shared/datasets/holidays');
const QUERIES = 25;

interface GroundTruth {
  queries: { query: string; positives: string[] }[];
}

async function realEmbedder(): Promise<PhotoEmbedder | string> {
  try {
    const { createDefaultEmbedder } = await import('../../src-main/engine/embed/default-embedder');
    return await createDefaultEmbedder();
  } catch (err) {
    return `default embedder unavailable: ${(err as Error).message}`;
  }
}

test(
  'real model: index part of INRIA Holidays and find the ground-truth positives',
  { timeout: 600_000 },
  async (t) => {
    if (!fs.existsSync(path.join(HOLIDAYS, 'groundtruth.json')))
      return t.skip('holidays dataset not present');
    const embedder = await realEmbedder();
    if (typeof embedder === 'string') return t.skip(embedder);
    const gt = JSON.parse(fs.readFileSync(path.join(HOLIDAYS, 'groundtruth.json'), 'utf8')) as GroundTruth;
    const queries = gt.queries.slice(0, QUERIES);
    // A folder of links to the photos of these groups (the dataset stays read-only and uncopied).
    const dir = tempDir('likeness-holidays-');
    for (const q of queries)
      for (const f of [q.query, ...q.positives])
        fs.symlinkSync(path.join(HOLIDAYS, 'images', f), path.join(dir, f));

    const lib = await Library.open(tempDir(), embedder);
    try {
      await lib.addFolder(dir);
      const summary = await lib.startIndexing();
      const n = fs.readdirSync(dir).length;
      assert.equal(summary.failed, 0);
      assert.equal(lib.status().photos.indexed, n);
      // 66 photos: below the whitening threshold, so this measures the backbone with the identity head.
      assert.equal(lib.status().head.kind, 'identity');
      let top1 = 0;
      let apSum = 0;
      for (const q of queries) {
        const photo = lib.photoByPath(path.join(dir, q.query))!;
        const hits = lib.similar(photo.id, { k: n });
        const names = hits.map((h) => path.basename(h.photo.path));
        if (q.positives.includes(names[0])) top1++;
        let found = 0;
        let ap = 0;
        names.forEach((name, i) => {
          if (q.positives.includes(name)) ap += ++found / (i + 1);
        });
        apSum += ap / q.positives.length;
        for (const h of hits) assert.ok(h.score <= 1.0001 && h.score >= -1.0001);
      }
      const mAP = apSum / queries.length;
      t.diagnostic(
        `${n} photos, ${queries.length} queries: top-1 ${top1}/${queries.length}, mAP ${mAP.toFixed(3)}`,
      );
      // Chance level on this subset is ≈ 2/60; a working pipeline is far above it.
      assert.ok(mAP > 0.5, `mAP ${mAP}`);
      assert.ok(top1 >= queries.length * 0.4, `top-1 ${top1}`);
    } finally {
      await lib.close();
      await embedder.close?.();
    }
  },
);
