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

export interface DuplicatePhoto extends SearchHit {
  /** the photo of the group this one is a copy of (the copy to keep), or null */
  copyOf: number | null;
}

export interface DuplicateGroup {
  /**
   * copies: one photo in several files (re-encoded, resized, cropped, re-toned, framed); scores are copy
   * scores against the copy to keep. near-duplicates: other shots of one moment (bursts, brackets),
   * possibly with copies among them; scores are similarities to the most central photo.
   */
  kind: 'copies' | 'near-duplicates';
  /** the lowest score in the group */
  score: number;
  photos: DuplicatePhoto[];
}
