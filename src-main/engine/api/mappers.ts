/**
 * Library rows → the contract's data types. The renderer sees file names, never paths, except in the
 * details of one photo and in folder and failure lists (which show where things are on disk).
 */
import path from 'node:path';
import type { PhotoEmbedder } from '../embed/photo-embedder';
import type { LibraryStatus } from '../library';
import type { IndexProgress } from '../pipeline/indexer';
import type { AlbumRow, FolderRow, HeadSummary, PhotoRow } from '../store/types';
import type {
  AlbumInfo,
  FolderInfo,
  HeadInfo,
  JobProgress,
  ModelInfo,
  PhotoDetails,
  PhotoSummary,
  Status,
} from './contract';

export function toPhotoSummary(p: PhotoRow): PhotoSummary {
  return {
    id: p.id,
    name: path.basename(p.path),
    width: p.width,
    height: p.height,
    // The contract promises capture time, else the file's mtime.
    takenAt: p.takenAt ?? p.mtime,
  };
}

export function toPhotoDetails(
  p: PhotoRow,
  folder: FolderRow,
  albums: { id: number; name: string }[],
): PhotoDetails {
  return {
    ...toPhotoSummary(p),
    path: p.path,
    size: p.size,
    folder: { id: folder.id, path: folder.path },
    albums,
    status: p.status,
    error: p.status === 'failed' ? p.error : null,
  };
}

export function toFolderInfo(
  f: FolderRow & { photoCount: number; unreadable: number; available: boolean },
): FolderInfo {
  return {
    id: f.id,
    path: f.path,
    photoCount: f.photoCount,
    unreadable: f.unreadable,
    available: f.available,
  };
}

export function toAlbumInfo(a: AlbumRow, presence?: { count: number; cover: number | null }): AlbumInfo {
  return {
    id: a.id,
    name: a.name,
    photoCount: presence?.count ?? 0,
    coverPhotoId: presence?.cover ?? null,
  };
}

/** 'identity' (un-whitened) and 'pca' heads are both unsupervised: the contract calls that 'pca'. */
export function toHeadKind(kind: string): HeadInfo['kind'] {
  return kind === 'trained' ? 'trained' : 'pca';
}

function heldOutR1(metrics: Record<string, unknown> | null): number | null {
  const r1 = metrics?.heldOutR1;
  return typeof r1 === 'number' && Number.isFinite(r1) ? r1 : null;
}

export function toHeadInfo(h: HeadSummary): HeadInfo {
  return {
    version: h.version,
    combo: h.combo,
    dim: h.dim,
    kind: toHeadKind(h.kind),
    createdAt: h.createdAt,
    active: h.active,
    heldOutR1: heldOutR1(h.metrics),
    // heads from before candidates were kept were all adopted
    adopted: h.metrics?.adopted !== false,
    verdict: typeof h.metrics?.verdict === 'string' ? h.metrics.verdict : null,
  };
}

/** The contract's progress is the indexer's, less its separate count of failures. */
export function toJobProgress({ failed: _failed, ...p }: IndexProgress): JobProgress {
  return p;
}

export function toModelInfo(e: PhotoEmbedder): ModelInfo {
  return {
    name: e.description.name,
    tap: e.description.tap,
    inputSize: e.description.inputSize,
    dim: e.channels,
  };
}

/**
 * The status panel. `indexing` is never null while a run is in progress, even before its first
 * photo finishes, so the renderer shows the job from the moment a folder is added.
 */
export function toStatus(s: LibraryStatus, embedder: PhotoEmbedder, running: boolean): Status {
  const { total, indexed, pending, failed, missing } = s.photos;
  const startup: JobProgress = {
    done: 0,
    total: pending,
    rate: 0,
    etaSeconds: null,
    current: null,
    state: 'running',
  };
  return {
    photos: { total, indexed, pending, failed, missing },
    folders: s.folders,
    model: toModelInfo(embedder),
    provider: embedder.provider,
    accelerator: embedder.accelerator ?? null,
    head: { version: s.head.version, combo: s.head.combo, dim: s.head.dim },
    indexing: s.indexing ? toJobProgress(s.indexing) : running ? startup : null,
    index: { ready: s.index.ready, exact: s.index.exact },
    unavailableFolders: s.unavailableFolders.map((f) => ({ id: f.id, path: f.path })),
    lockedBy: s.lockedBy,
    databaseProblems: s.integrity ?? [],
  };
}

/** What status answers while the model is still loading: an empty library, no model yet. */
export function loadingStatus(): Status {
  return {
    photos: { total: 0, indexed: 0, pending: 0, failed: 0, missing: 0 },
    folders: 0,
    model: null,
    provider: null,
    head: null,
    indexing: null,
    index: { ready: false, exact: true },
  };
}
