import path from 'node:path';
import { createDefaultEmbedder } from '../../src-main/engine/embed/default-embedder';
import { CachedEmbedder } from '../lib/cached-embedder';
import { imagePath, loadDataset } from '../lib/datasets';
const ds = loadDataset(path.resolve(process.argv[2]));
const size = Number(process.argv[3]);
async function main() {
  const emb = new CachedEmbedder(await createDefaultEmbedder({ inputSize: size, log: (m) => console.error(m) }));
  const t0 = Date.now();
  for (let i = 0; i < ds.files.length; i += 8) {
    const idx = Array.from({ length: Math.min(8, ds.files.length - i) }, (_, k) => i + k);
    const dec = await Promise.all(idx.map((j) => emb.decode(imagePath(ds, j), { thumbnail: false })));
    await emb.embed(dec.map((d) => d.tensor));
    if (i % 160 === 0) console.error(`${i} ${(Date.now() - t0) / 1000}s`);
  }
  await emb.close();
  console.error('done', emb.stats);
}
main();
