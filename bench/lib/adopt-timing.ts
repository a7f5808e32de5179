/**
 * Times a real head switch: HeadManager.adopt() over a SQLite library of synthetic photos (float16
 * pooled vectors read back, projected, embeddings written), once through ONNX Runtime (the engine's
 * default bulk path) and once through the TypeScript projectBatch. The HNSW build that precedes the
 * switch runs in a worker while the old graph answers, and is not part of this figure (a stub index
 * stands in for it; `npm run bench:responsiveness` measures a switch with its build).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gaussian, makeRng } from '../../src-main/engine/finetune/rng';
import { projectBatchFast, releaseFastSession } from '../../src-main/engine/head/head-session';
import type { HeadWeights } from '../../src-main/engine/head/head-types';
import { projectBatch } from '../../src-main/engine/head/project';
import type { AnnIndex } from '../../src-main/engine/index/ann-index';
import { HeadManager } from '../../src-main/engine/pipeline/head-manager';
import type { HeadOps } from '../../src-main/engine/head/head-ops';
import { Store } from '../../src-main/engine/store/store';

const MODEL = 'bench-model';
/** the TypeScript path is timed on at most this many photos and scaled (it takes minutes on 100k) */
const SYNC_SAMPLE = 10_000;

function buildLibrary(
  dir: string,
  head: HeadWeights,
  channels: number,
  photos: number,
): { store: Store; version: number } {
  const store = Store.open(dir);
  const folder = store.addFolder('/bench');
  const stub = { open: () => 'missing' } as unknown as AnnIndex;
  const first = new HeadManager(store, stub, { projectBatch }, { modelId: MODEL, channels }).ensure();
  const rng = makeRng(21);
  const embedding = new Float32Array(2 * channels);
  for (let start = 0; start < photos; start += 5000) {
    store.transaction(() => {
      for (let i = start; i < Math.min(photos, start + 5000); i++) {
        const v = () => Float32Array.from({ length: channels }, () => Math.abs(gaussian(rng)));
        const photoId = store.insertPhoto({
          folderId: folder.id,
          path: `/bench/${i}.jpg`,
          size: 1,
          mtime: 1,
          hash: `h${i}`,
        });
        store.commitIndexed({
          photoId,
          pooled: { S: v(), M: v(), G: v() },
          modelId: MODEL,
          embedding,
          headVersion: first.version,
          width: 1,
          height: 1,
          takenAt: null,
        });
      }
    });
  }
  const version = store.insertHead({ modelId: MODEL, kind: 'trained', trainedOn: photos, weights: head });
  return { store, version };
}

/** An index that builds nothing: prepare() hands back an empty graph, install() takes it. */
const stubIndex = () =>
  ({ prepare: () => Promise.resolve({ log: [] }), install: () => undefined }) as unknown as AnnIndex;

async function timeAdopt(store: Store, version: number, ops: HeadOps, channels: number): Promise<number> {
  const stub = stubIndex();
  const manager = new HeadManager(store, stub, ops, { modelId: MODEL, channels });
  const t = performance.now();
  await manager.adopt(version);
  return performance.now() - t;
}

export async function measureAdopt(
  head: HeadWeights,
  channels: number,
  photos: number,
): Promise<{ bulkMs: number; syncMs: number; syncPhotos: number; buildMs: number }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'likeness-adopt-'));
  try {
    const t = performance.now();
    const big = buildLibrary(path.join(root, 'big'), head, channels, photos);
    const buildMs = performance.now() - t;
    releaseFastSession();
    const bulkMs = await timeAdopt(
      big.store,
      big.version,
      { projectBatch, projectBulk: projectBatchFast },
      channels,
    );
    releaseFastSession();
    big.store.close();
    const syncPhotos = Math.min(photos, SYNC_SAMPLE);
    const small = buildLibrary(path.join(root, 'small'), head, channels, syncPhotos);
    const syncMs =
      ((await timeAdopt(small.store, small.version, { projectBatch }, channels)) * photos) / syncPhotos;
    small.store.close();
    return { bulkMs, syncMs, syncPhotos, buildMs };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
