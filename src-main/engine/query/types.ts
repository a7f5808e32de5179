import type { PhotoRow } from '../store/types';

export interface SearchOptions {
  /** number of results (default 50) */
  k?: number;
  /** minimum cosine similarity */
  threshold?: number;
  /** αQE: average the query with its top hits (weighted by similarity^α) and search again */
  expand?: boolean | { n?: number; alpha?: number };
  folderId?: number;
  folderIds?: number[];
  /** folders whose photos are left out (e.g. unreachable now) */
  excludeFolderIds?: number[];
  /** capture time (EXIF, else mtime) range, epoch ms, inclusive */
  from?: number;
  to?: number;
}

export interface SearchHit {
  photo: PhotoRow;
  /** cosine similarity to the query */
  score: number;
}

/** A region as fractions (0..1) of the displayed, EXIF-oriented image. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface DuplicateGroup {
  /** best-connected first; score = similarity to the first photo (1 for itself) */
  photos: SearchHit[];
}
