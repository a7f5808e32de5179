/**
 * Which photos a fine-tuning run trains on: the chosen albums' indexed photos (their cached pooled
 * vectors) as the classes, and an even sample of the rest of the library. The rules are here, once; the
 * Library supplies the data through `TrainingData`.
 */
import { InvalidInputError, NotFoundError } from '../errors';
import type { HeadWeights, Pooled } from '../head/head-types';
import type { AlbumRow } from '../store/types';
import type { TrainingSet } from './finetune-job';

/** The trainer's own minimum: two albums with four photos each (it holds some out to judge the result). */
const MIN_ALBUMS = 2;
const MIN_PHOTOS = 4;
/** photos of the rest of the library passed to the trainer (its library mean and self-training pool) */
const LIBRARY_SAMPLE = 5000;

export interface TrainingData {
  albums: AlbumRow[];
  albumPhotoIds(albumId: number): number[];
  /** the current backbone's id: pooled vectors of another model cannot be trained on */
  modelId: string;
  pooled(photoId: number): { modelId: string; pooled: Pooled } | undefined;
  isIndexed(photoId: number): boolean;
  /** ids of the indexed photos with pooled vectors of the current model, in id order */
  indexedIds(): number[];
  activeHead: HeadWeights;
}

export function buildTrainingSet(data: TrainingData, albumIds?: number[]): TrainingSet {
  const chosen = albumIds ? data.albums.filter((a) => albumIds.includes(a.id)) : data.albums;
  const unknown = albumIds?.filter((id) => !data.albums.some((a) => a.id === id)) ?? [];
  if (unknown.length) throw new NotFoundError(`No album with id ${unknown[0]}`);

  // A photo in several chosen albums would be both a positive and a negative: it keeps its first album.
  const seen = new Set<number>();
  const pooled: Pooled[] = [];
  const labels: number[] = [];
  const perAlbum = new Map<number, number>();
  for (const album of chosen) {
    for (const id of data.albumPhotoIds(album.id)) {
      if (seen.has(id)) continue;
      seen.add(id);
      const p = data.pooled(id);
      if (!p || p.modelId !== data.modelId || !data.isIndexed(id)) continue;
      pooled.push(p.pooled);
      labels.push(album.id);
      perAlbum.set(album.id, (perAlbum.get(album.id) ?? 0) + 1);
    }
  }
  const usable = [...perAlbum.values()].filter((n) => n >= MIN_PHOTOS).length;
  if (usable < MIN_ALBUMS)
    throw new InvalidInputError(
      `Fine-tuning needs at least ${MIN_ALBUMS} albums with ${MIN_PHOTOS} or more indexed photos each ` +
        `(${usable} album${usable === 1 ? ' has' : 's have'} enough)`,
    );
  return {
    pooled,
    labels,
    library: librarySample(data, seen, LIBRARY_SAMPLE),
    initHead: data.activeHead,
    albumNames: Object.fromEntries(chosen.map((a) => [String(a.id), a.name])),
  };
}

/** An even sample (by id) of the indexed photos outside the chosen albums, at most `max`. */
function librarySample(data: TrainingData, exclude: Set<number>, max: number): Pooled[] {
  const ids = data.indexedIds().filter((id) => !exclude.has(id));
  const stride = Math.max(1, ids.length / max);
  const out: Pooled[] = [];
  for (let i = 0; i < ids.length && out.length < max; i += stride) {
    const p = data.pooled(ids[Math.floor(i)]);
    if (p) out.push(p.pooled);
  }
  return out;
}
