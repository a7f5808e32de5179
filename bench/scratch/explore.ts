import path from 'node:path';
import { createDefaultEmbedder } from '../../src-main/engine/embed/default-embedder';
import type { Pooled } from '../../src-main/engine/head/head-types';
import { projectBatch } from '../../src-main/engine/head/project';
import { centredIdentityHead, learnWhiteningHead, type WhiteningOptions } from '../../src-main/engine/head/whitening';
import { CachedEmbedder } from '../lib/cached-embedder';
import { imagePath, loadDataset } from '../lib/datasets';
import { holidaysScores, similarityMatrix, ranking } from '../lib/metrics';

const size = Number(process.argv[2] ?? 448);
const mode = process.argv[3] ?? 'embed';
const ds = loadDataset(path.resolve('../shared/datasets/holidays'));

function joinOrder(): number[] {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const shuffle = <T>(a: T[]) => { for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [a[i], a[j]] = [a[j], a[i]]; } return a; };
  const groups = ds.queries!.map((q) => [q.query, ...q.positives]);
  return shuffle(groups).flat();
}

export function evalSubset(vecs: Float32Array[], lib: number[], qe = 0, alpha = 3): number {
  const pos = new Map(lib.map((d, i) => [d, i]));
  const sim = similarityMatrix(vecs);
  const n = vecs.length;
  const lists = [];
  for (const q of ds.queries!) {
    const positives = q.positives.filter((p) => pos.has(p)).map((p) => pos.get(p)!);
    if (!pos.has(q.query) || !positives.length) continue;
    const qi = pos.get(q.query)!;
    let ranked = ranking(sim, n, qi);
    if (qe) {
      const v = Float32Array.from(vecs[qi]);
      for (const h of ranked.slice(0, qe)) { const w = Math.max(sim[qi * n + h], 0) ** alpha; for (let k = 0; k < v.length; k++) v[k] += w * vecs[h][k]; }
      const sc = vecs.map((x) => { let s = 0; for (let k = 0; k < v.length; k++) s += v[k] * x[k]; return s; });
      ranked = ranked.slice().sort((a, b) => sc[b] - sc[a]);
    }
    lists.push({ ranked, positives });
  }
  return holidaysScores(lists).mAP;
}

function mnnRate(vecs: Float32Array[]): number {
  const n = vecs.length; const sim = similarityMatrix(vecs);
  const nn = Array.from({ length: n }, (_, i) => { let b = -1, bs = -2; for (let j = 0; j < n; j++) if (j !== i && sim[i * n + j] > bs) { bs = sim[i * n + j]; b = j; } return b; });
  let m = 0; for (let i = 0; i < n; i++) if (nn[nn[i]] === i) m++;
  return (100 * m) / n;
}

async function main() {
  const inner = await createDefaultEmbedder({ inputSize: size, log: (m) => console.error(m) });
  const emb = new CachedEmbedder(inner);
  const all: Pooled[] = [];
  const t0 = Date.now();
  for (let i = 0; i < ds.files.length; i += 8) {
    const idx = Array.from({ length: Math.min(8, ds.files.length - i) }, (_, k) => i + k);
    const dec = await Promise.all(idx.map((j) => emb.decode(imagePath(ds, j), { thumbnail: false })));
    all.push(...(await emb.embed(dec.map((d) => d.tensor))));
    if (i % 80 === 0) console.error(`${i} ${(Date.now() - t0) / 1000}s`);
  }
  await emb.close();
  if (mode === 'embed') return;
  const order = joinOrder();
  const variants: Record<string, (p: Pooled[]) => Float32Array[]> = {
    identity: (p) => projectBatch(centredIdentityHead(p), p),
    pca: (p) => projectBatch(learnWhiteningHead(p), p),
  };
  const W = (o: WhiteningOptions) => (p: Pooled[]) => projectBatch(learnWhiteningHead(p, o), p);
  void W;
  const sizes = (process.argv[4] ?? '50,100,200,300').split(',').map(Number);
  for (const [name, f] of Object.entries(variants)) {
    const row = sizes.map((n) => { const lib = order.slice(0, n); const v = f(lib.map((i) => all[i])); return evalSubset(v, lib).toFixed(1) + '/' + evalSubset(v, lib, 5).toFixed(1) + '/m' + mnnRate(v).toFixed(0); });
    console.log(size, name.padEnd(20), row.join('  '));
  }
}
main();
