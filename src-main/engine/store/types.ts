import type { HeadWeights, Pooled } from '../head/head-types';

export type PhotoStatus = 'pending' | 'indexed' | 'failed' | 'missing';

export interface FolderRow {
  id: number;
  path: string;
  addedAt: number;
}

export interface PhotoRow {
  id: number;
  folderId: number;
  path: string;
  size: number;
  /** modification time, integer milliseconds */
  mtime: number;
  /** content hash: sha1 over (size, first 64 KiB, last 64 KiB), hex; see scan/content-hash.ts */
  hash: string | null;
  width: number | null;
  height: number | null;
  /** EXIF capture time, ms since epoch */
  takenAt: number | null;
  status: PhotoStatus;
  error: string | null;
  addedAt: number;
}

export interface NewPhoto {
  folderId: number;
  path: string;
  size: number;
  mtime: number;
  hash: string | null;
  status?: PhotoStatus;
  error?: string | null;
}

export interface HeadRow {
  version: number;
  createdAt: number;
  modelId: string;
  combo: string;
  /** how it was made: 'identity' (un-whitened), 'whitening', 'trained', … */
  kind: string;
  /** number of photos it was learned on (0 for identity) */
  trainedOn: number;
  weights: HeadWeights;
  metrics: Record<string, unknown> | null;
  active: boolean;
}

/** A head without its weights (listing them), with its output size. */
export type HeadSummary = Omit<HeadRow, 'weights'> & { dim: number };

export interface AlbumRow {
  id: number;
  name: string;
  createdAt: number;
  count: number;
}

export interface JobRow {
  id: number;
  kind: string;
  status: 'running' | 'done' | 'cancelled' | 'failed' | 'interrupted';
  startedAt: number;
  finishedAt: number | null;
  progress: unknown;
  error: string | null;
}

export interface StatusCounts {
  /** photos: indexed or waiting to be; files that could not be read, or are gone, are not photos */
  total: number;
  indexed: number;
  pending: number;
  failed: number;
  missing: number;
}

export interface IndexedResult {
  photoId: number;
  pooled: Pooled;
  modelId: string;
  embedding: Float32Array;
  headVersion: number;
  width: number;
  height: number;
  takenAt: number | null;
  /** the copy fingerprint (decode/fingerprint.ts), when computed */
  fingerprint?: Uint8Array;
}

export interface PhotoFilter {
  folderIds?: number[];
  /** inclusive range on taken_at (falls back to mtime when the photo has no EXIF date) */
  from?: number;
  to?: number;
}
