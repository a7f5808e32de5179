import fs from 'node:fs';
import path from 'node:path';
import { Store } from '../src-main/engine/store/store';
import { projectBatch } from '../src-main/engine/head/project';
import { learnWhiteningHead, identityHead } from '../src-main/engine/head/whitening';
import { unwhitenedHead } from '../src-main/engine/pipeline/head-policy';
import type { HeadWeights, Pooled } from '../src-main/engine/head/head-types';
const db = process.argv[2];
const store = Store.open(db);
const gt = JSON.parse(fs.readFileSync('/work/shared/datasets/holidays/groundtruth.json', 'utf8')).queries.slice(0, 25);
const rows = store.listPhotos({ status: 'indexed' });
const names = rows.map((r) => path.basename(r.path));
const pooled: Pooled[] = rows.map((r) => store.getPooled(r.id)!.pooled);
const C = pooled[0].S.length;
function mAP(head: HeadWeights) {
  const E = projectBatch(head, pooled);
  let s = 0;
  for (const q of gt) {
    const qi = names.indexOf(q.query);
    const order = names.map((n, i) => [i, E[i].reduce((a, v, d) => a + v * E[qi][d], 0)] as const).filter(([i]) => i !== qi).sort((a, b) => b[1] - a[1]);
    let f = 0, ap = 0;
    order.forEach(([i], r) => { if (q.positives.includes(names[i])) ap += ++f / (r + 1); });
    s += ap / q.positives.length;
  }
  return (s / gt.length).toFixed(3);
}
console.log('N', pooled.length, 'C', C);
for (const combo of ['SMG', 'SG', 'MG', 'G']) console.log(combo, 'identity full', mAP(identityHead(C, combo)), 'pow0.5', mAP(identityHead(C, combo, 0.5)), 'trunc128', mAP(unwhitenedHead(C, combo)));
const t = Date.now();
for (const [dim, sh, p] of [[128, 0.1, 1], [32, 0.1, 1], [128, 1, 1], [64, 1, 0.5]] as const) console.log('pca', dim, sh, p, mAP(learnWhiteningHead(pooled.slice(0, 50), { combo: 'SMG', dim, shrinkage: sh, power: p })));
console.log(Date.now() - t);
