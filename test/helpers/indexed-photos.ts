import type { Pooled } from '../../src-main/engine/head/head-types';
import type { Store } from '../../src-main/engine/store/store';

/**
 * Writes n photos into a store as the indexer would have committed them (one folder, pooled vectors and
 * an embedding each, in one transaction); returns their ids in order.
 */
export function addIndexedPhotos(
  store: Store,
  n: number,
  o: {
    modelId: string;
    headVersion: number;
    pooled: (i: number) => Pooled;
    embedding: (i: number, pooled: Pooled) => Float32Array;
    folder?: string;
  },
): number[] {
  const folder = store.addFolder(o.folder ?? '/photos');
  return store.transaction(() =>
    Array.from({ length: n }, (_, i) => {
      const photoId = store.insertPhoto({
        folderId: folder.id,
        path: `${folder.path}/${i}.jpg`,
        size: 1,
        mtime: 1,
        hash: `h${i}`,
      });
      const pooled = o.pooled(i);
      store.commitIndexed({
        photoId,
        pooled,
        modelId: o.modelId,
        embedding: o.embedding(i, pooled),
        headVersion: o.headVersion,
        width: 1,
        height: 1,
        takenAt: null,
      });
      return photoId;
    }),
  );
}
