import Database from 'better-sqlite3';
import path from 'node:path';
import { headOutDim, type HeadWeights, type Pooled } from '../head/head-types';
import { blobToFloat32, blobToFloat32FromHalf, float16ToBlob, float32ToBlob } from './float16';
import { decodeHead, encodeHead } from '../head/head-codec';
import { DiskReserve } from './disk-reserve';
import { DB_FILE, openDatabase } from './open-database';
import { isDiskFull } from './write-errors';
import { keysetPages } from './keyset';
import { StatementCache } from './statement-cache';
import type {
  AlbumRow,
  FolderRow,
  HeadRow,
  HeadSummary,
  IndexedResult,
  JobRow,
  NewPhoto,
  PhotoFilter,
  PhotoRow,
  PhotoStatus,
  StatusCounts,
} from './types';
import { toPhoto, type RawPhoto } from './photo-row';

interface RawHead {
  version: number;
  created_at: number;
  model_id: string;
  combo: string;
  kind: string;
  trained_on: number;
  weights: Buffer;
  metrics: string | null;
  active: number;
}

const toHead = (r: RawHead): HeadRow => ({
  version: r.version,
  createdAt: r.created_at,
  modelId: r.model_id,
  combo: r.combo,
  kind: r.kind,
  trainedOn: r.trained_on,
  weights: decodeHead(r.weights),
  metrics: r.metrics ? (JSON.parse(r.metrics) as Record<string, unknown>) : null,
  active: r.active === 1,
});

/**
 * The typed repository over the library database. All SQL of the engine lives in store/.
 * Every multi-row change runs in one transaction so a crash leaves either all or none of it.
 */
export class Store {
  readonly db: Database.Database;
  /** prepared statements, reused (see StatementCache) */
  readonly ps: StatementCache;

  /** room kept for recording a job's end on a full disk (made when a job starts) */
  readonly reserve: DiskReserve | null;

  constructor(db: Database.Database, reserve: DiskReserve | null = null) {
    this.db = db;
    this.ps = new StatementCache(db);
    this.reserve = reserve;
  }

  static open(dbDir: string): Store {
    return new Store(openDatabase(dbDir), new DiskReserve(dbDir));
  }

  /** A second, read-only connection to an existing library (a reader beside the engine's writer). */
  static openReadOnly(dbDir: string): Store {
    const db = new Database(path.join(dbDir, DB_FILE), { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    return new Store(db);
  }

  close(): void {
    this.ps.clear();
    if (this.db.open) this.db.close();
  }

  /**
   * A write transaction. IMMEDIATE takes the write lock up front, so a concurrent writer (the index
   * worker's connection) makes it wait out busy_timeout; a deferred one that read first would instead
   * fail at once with "database is locked" when it tries to write after the other commits.
   */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  // ── folders ────────────────────────────────────────────────────────────────

  addFolder(path: string): FolderRow {
    this.ps.prepare('INSERT OR IGNORE INTO folders (path, added_at) VALUES (?, ?)').run(path, Date.now());
    return this.folderByPath(path)!;
  }

  folderByPath(path: string): FolderRow | undefined {
    const r = this.ps.prepare('SELECT id, path, added_at FROM folders WHERE path = ?').get(path) as
      { id: number; path: string; added_at: number } | undefined;
    return r && { id: r.id, path: r.path, addedAt: r.added_at };
  }

  listFolders(): FolderRow[] {
    const rows = this.ps.prepare('SELECT id, path, added_at FROM folders ORDER BY path').all() as {
      id: number;
      path: string;
      added_at: number;
    }[];
    return rows.map((r) => ({ id: r.id, path: r.path, addedAt: r.added_at }));
  }

  /** Deletes the folder and its photos (with their vectors and album memberships); returns the photo ids. */
  removeFolder(folderId: number): number[] {
    return this.transaction(() => {
      const ids = (
        this.ps.prepare('SELECT id FROM photos WHERE folder_id = ?').pluck().all(folderId) as number[]
      ).slice();
      this.ps.prepare('DELETE FROM folders WHERE id = ?').run(folderId);
      return ids;
    });
  }

  /** Moves every photo of `from` to `to` (used when a parent of an existing folder is added). */
  mergeFolder(from: number, to: number): void {
    this.transaction(() => {
      this.ps.prepare('UPDATE photos SET folder_id = ? WHERE folder_id = ?').run(to, from);
      this.ps.prepare('DELETE FROM folders WHERE id = ?').run(from);
    });
  }

  /** Per folder: its photos (indexed or waiting) and its files that could not be read. */
  folderPhotoCounts(): Map<number, { photos: number; unreadable: number }> {
    const rows = this.ps
      .prepare(
        `SELECT folder_id AS id, SUM(status IN ('indexed', 'pending')) AS photos,
                SUM(status = 'failed') AS unreadable
         FROM photos GROUP BY folder_id`,
      )
      .all() as { id: number; photos: number; unreadable: number }[];
    return new Map(rows.map((r) => [r.id, { photos: r.photos, unreadable: r.unreadable }]));
  }

  // ── photos ─────────────────────────────────────────────────────────────────

  getPhoto(id: number): PhotoRow | undefined {
    const r = this.ps.prepare('SELECT * FROM photos WHERE id = ?').get(id) as RawPhoto | undefined;
    return r && toPhoto(r);
  }

  photoByPath(path: string): PhotoRow | undefined {
    const r = this.ps.prepare('SELECT * FROM photos WHERE path = ?').get(path) as RawPhoto | undefined;
    return r && toPhoto(r);
  }

  photosByIds(ids: number[]): Map<number, PhotoRow> {
    const out = new Map<number, PhotoRow>();
    if (!ids.length) return out;
    // one query for the lot; the ids travel as one JSON text, so the statement is always the same
    const rows = this.ps
      .prepare('SELECT * FROM photos WHERE id IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify(ids)) as RawPhoto[];
    for (const r of rows) out.set(r.id, toPhoto(r));
    return out;
  }

  photosInFolder(folderId: number): PhotoRow[] {
    return (this.ps.prepare('SELECT * FROM photos WHERE folder_id = ?').all(folderId) as RawPhoto[]).map(
      toPhoto,
    );
  }

  listPhotos(
    opts: { status?: PhotoStatus; folderId?: number; limit?: number; offset?: number } = {},
  ): PhotoRow[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (opts.status) {
      where.push('status = ?');
      args.push(opts.status);
    }
    if (opts.folderId !== undefined) {
      where.push('folder_id = ?');
      args.push(opts.folderId);
    }
    const sql = `SELECT * FROM photos ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id LIMIT ? OFFSET ?`;
    args.push(opts.limit ?? -1, opts.offset ?? 0);
    return (this.ps.prepare(sql).all(...args) as RawPhoto[]).map(toPhoto);
  }

  insertPhoto(p: NewPhoto): number {
    const r = this.ps
      .prepare(
        `INSERT INTO photos (folder_id, path, size, mtime, hash, status, error, added_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(p.folderId, p.path, p.size, p.mtime, p.hash, p.status ?? 'pending', p.error ?? null, Date.now());
    return Number(r.lastInsertRowid);
  }

  /** Same content, new place (move / rename): keeps id, vectors and albums. */
  movePhoto(id: number, folderId: number, path: string, size: number, mtime: number): void {
    this.ps
      .prepare('UPDATE photos SET folder_id = ?, path = ?, size = ?, mtime = ? WHERE id = ?')
      .run(folderId, path, size, mtime, id);
  }

  /** The file's metadata changed but its content hash did not. */
  touchPhoto(id: number, size: number, mtime: number): void {
    this.ps.prepare('UPDATE photos SET size = ?, mtime = ? WHERE id = ?').run(size, mtime, id);
  }

  /** New content at a known path: drop its vectors and queue it again. */
  replacePhotoContent(id: number, size: number, mtime: number, hash: string | null): void {
    this.transaction(() => {
      this.ps.prepare('DELETE FROM pooled WHERE photo_id = ?').run(id);
      this.ps.prepare('DELETE FROM embeddings WHERE photo_id = ?').run(id);
      this.ps.prepare('DELETE FROM fingerprints WHERE photo_id = ?').run(id);
      this.ps
        .prepare(
          `UPDATE photos SET size = ?, mtime = ?, hash = ?, status = 'pending', error = NULL WHERE id = ?`,
        )
        .run(size, mtime, hash, id);
    });
  }

  /** Forgets photos (moved to the trash): their vectors and album memberships go with them. */
  forgetPhotos(ids: number[]): void {
    const stmt = this.ps.prepare('DELETE FROM photos WHERE id = ?');
    this.transaction(() => {
      for (const id of ids) stmt.run(id);
    });
  }

  setStatus(id: number, status: PhotoStatus, error: string | null = null): void {
    this.ps.prepare('UPDATE photos SET status = ?, error = ? WHERE id = ?').run(status, error, id);
  }

  /** Records the outcome of a photo's indexing only if it is still pending (not trashed or removed meanwhile). */
  settlePending(id: number, status: PhotoStatus, error: string | null): boolean {
    return (
      this.ps
        .prepare(`UPDATE photos SET status = ?, error = ? WHERE id = ? AND status = 'pending'`)
        .run(status, error, id).changes === 1
    );
  }

  /** Whether the library holds photos (not missing) from this folder. */
  folderHasPhotos(folderId: number): boolean {
    return !!this.ps
      .prepare(`SELECT 1 FROM photos WHERE folder_id = ? AND status != 'missing' LIMIT 1`)
      .get(folderId);
  }

  /** Ids of the photos in these folders (left out of results while their folder is unreachable). */
  idsInFolders(folderIds: number[]): Set<number> {
    if (!folderIds.length) return new Set();
    return new Set(
      this.ps
        .prepare(`SELECT id FROM photos WHERE folder_id IN (${folderIds.map(() => '?').join(',')})`)
        .pluck()
        .all(...folderIds) as number[],
    );
  }

  /** A file that came back: indexed again if its vectors are still there, else pending. */
  restorePhoto(id: number): PhotoStatus {
    const has = this.ps.prepare('SELECT 1 FROM pooled WHERE photo_id = ?').get(id);
    const status: PhotoStatus = has ? 'indexed' : 'pending';
    this.setStatus(id, status);
    return status;
  }

  /** Photos with this content hash and size (move / rename candidates). */
  photosByHash(hash: string, size: number): PhotoRow[] {
    return (
      this.ps.prepare('SELECT * FROM photos WHERE hash = ? AND size = ?').all(hash, size) as RawPhoto[]
    ).map(toPhoto);
  }

  /** Photos whose pooled vectors come from another backbone are queued again; returns how many. */
  requeueOtherModels(modelId: string): number {
    return this.transaction(() => {
      const ids = this.ps
        .prepare('SELECT photo_id FROM pooled WHERE model_id != ?')
        .pluck()
        .all(modelId) as number[];
      for (const id of ids) this.replacePhotoContentKeepFile(id);
      return ids.length;
    });
  }

  private replacePhotoContentKeepFile(id: number): void {
    this.ps.prepare('DELETE FROM pooled WHERE photo_id = ?').run(id);
    this.ps.prepare('DELETE FROM embeddings WHERE photo_id = ?').run(id);
    this.ps
      .prepare(`UPDATE photos SET status = 'pending', error = NULL WHERE id = ? AND status = 'indexed'`)
      .run(id);
  }

  pendingIds(limit: number, afterId = 0): number[] {
    return this.ps
      .prepare(`SELECT id FROM photos WHERE status = 'pending' AND id > ? ORDER BY id LIMIT ?`)
      .pluck()
      .all(afterId, limit) as number[];
  }

  /** Photos by status, from the counts the triggers keep (migration 3): constant time at any size. */
  counts(): StatusCounts {
    const rows = this.ps.prepare('SELECT status, n FROM photo_counts').all() as {
      status: PhotoStatus;
      n: number;
    }[];
    const c: StatusCounts = { total: 0, indexed: 0, pending: 0, failed: 0, missing: 0 };
    for (const r of rows) c[r.status] = r.n;
    c.total = c.indexed + c.pending;
    return c;
  }

  failedPhotos(limit = 100): PhotoRow[] {
    return (
      this.ps
        .prepare(`SELECT * FROM photos WHERE status = 'failed' ORDER BY id LIMIT ?`)
        .all(limit) as RawPhoto[]
    ).map(toPhoto);
  }

  /**
   * Commits one photo's results atomically: a crash leaves it either pending or fully indexed. Only a photo
   * still pending is committed: one trashed, removed or re-queued meanwhile is not brought back (false).
   */
  commitIndexed(r: IndexedResult): boolean {
    return this.transaction(() => {
      const st = this.ps.prepare('SELECT status FROM photos WHERE id = ?').pluck().get(r.photoId);
      if (st !== 'pending') return false;
      this.ps
        .prepare('INSERT OR REPLACE INTO pooled (photo_id, model_id, s, m, g) VALUES (?, ?, ?, ?, ?)')
        .run(
          r.photoId,
          r.modelId,
          float16ToBlob(r.pooled.S),
          float16ToBlob(r.pooled.M),
          float16ToBlob(r.pooled.G),
        );
      this.ps
        .prepare('INSERT OR REPLACE INTO embeddings (photo_id, head_version, vector) VALUES (?, ?, ?)')
        .run(r.photoId, r.headVersion, float32ToBlob(r.embedding));
      if (r.fingerprint) this.setFingerprint(r.photoId, r.fingerprint);
      this.ps
        .prepare(
          `UPDATE photos SET status = 'indexed', error = NULL, width = ?, height = ?, taken_at = ? WHERE id = ?`,
        )
        .run(r.width, r.height, r.takenAt, r.photoId);
      return true;
    });
  }

  /** Ids matching a folder / date filter (date: EXIF capture time, else file mtime). */
  idsMatching(f: PhotoFilter): Set<number> {
    const where: string[] = [`status = 'indexed'`];
    const args: number[] = [];
    if (f.folderIds?.length) {
      where.push(`folder_id IN (${f.folderIds.map(() => '?').join(',')})`);
      args.push(...f.folderIds);
    }
    if (f.from !== undefined) {
      where.push('COALESCE(taken_at, mtime) >= ?');
      args.push(f.from);
    }
    if (f.to !== undefined) {
      where.push('COALESCE(taken_at, mtime) <= ?');
      args.push(f.to);
    }
    return new Set(
      this.ps
        .prepare(`SELECT id FROM photos WHERE ${where.join(' AND ')}`)
        .pluck()
        .all(...args) as number[],
    );
  }

  // ── copy fingerprints ──────────────────────────────────────────────────────

  setFingerprint(photoId: number, grey: Uint8Array): void {
    this.ps
      .prepare('INSERT OR REPLACE INTO fingerprints (photo_id, grey) VALUES (?, ?)')
      .run(photoId, Buffer.from(grey.buffer, grey.byteOffset, grey.byteLength));
  }

  /** Stored fingerprints of these photos (photos without one are absent from the map). */
  fingerprints(ids: number[]): Map<number, Uint8Array> {
    const out = new Map<number, Uint8Array>();
    const get = this.ps.prepare('SELECT grey FROM fingerprints WHERE photo_id = ?').pluck();
    for (const id of ids) {
      const b = get.get(id) as Buffer | undefined;
      if (b) out.set(id, new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    }
    return out;
  }

  // ── pooled vectors ─────────────────────────────────────────────────────────

  /** The SPoC branch of these photos' pooled vectors (one query for the lot; absent ones left out). */
  pooledSpoc(ids: number[]): Map<number, Float32Array> {
    const rows = this.ps
      .prepare('SELECT photo_id AS id, s FROM pooled WHERE photo_id IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify(ids)) as { id: number; s: Buffer }[];
    return new Map(rows.map((r) => [r.id, blobToFloat32FromHalf(r.s)]));
  }

  getPooled(photoId: number): { modelId: string; pooled: Pooled } | undefined {
    const r = this.ps.prepare('SELECT model_id, s, m, g FROM pooled WHERE photo_id = ?').get(photoId) as
      { model_id: string; s: Buffer; m: Buffer; g: Buffer } | undefined;
    return (
      r && {
        modelId: r.model_id,
        pooled: {
          S: blobToFloat32FromHalf(r.s),
          M: blobToFloat32FromHalf(r.m),
          G: blobToFloat32FromHalf(r.g),
        },
      }
    );
  }

  /** Ids of the indexed photos that have pooled vectors of a model, in id order. */
  pooledIds(modelId: string): number[] {
    return (
      this.ps
        .prepare(
          `SELECT p.photo_id AS id FROM pooled p JOIN photos ph ON ph.id = p.photo_id
           WHERE p.model_id = ? AND ph.status = 'indexed' ORDER BY p.photo_id`,
        )
        .all(modelId) as { id: number }[]
    ).map((r) => r.id);
  }

  /** Pooled vectors of indexed photos of a model, in id order, a chunk at a time. */
  pooledChunk(modelId: string, afterId: number, limit: number): { ids: number[]; pooled: Pooled[] } {
    const rows = this.ps
      .prepare(
        `SELECT p.photo_id AS id, p.s, p.m, p.g FROM pooled p JOIN photos ph ON ph.id = p.photo_id
         WHERE p.model_id = ? AND p.photo_id > ? AND ph.status = 'indexed' ORDER BY p.photo_id LIMIT ?`,
      )
      .all(modelId, afterId, limit) as { id: number; s: Buffer; m: Buffer; g: Buffer }[];
    return {
      ids: rows.map((r) => r.id),
      pooled: rows.map((r) => ({
        S: blobToFloat32FromHalf(r.s),
        M: blobToFloat32FromHalf(r.m),
        G: blobToFloat32FromHalf(r.g),
      })),
    };
  }

  /** All of pooledChunk, page by page. */
  pooledPages(modelId: string, pageSize: number): Generator<{ ids: number[]; pooled: Pooled[] }> {
    return keysetPages(pageSize, (after, limit) => this.pooledChunk(modelId, after, limit));
  }

  /** Indexed photos that have pooled vectors but no embedding for `version` (they need re-projection). */
  idsMissingEmbedding(version: number, limit: number): number[] {
    return this.ps
      .prepare(
        `SELECT p.photo_id FROM pooled p JOIN photos ph ON ph.id = p.photo_id
         WHERE ph.status = 'indexed'
           AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.photo_id = p.photo_id AND e.head_version = ?)
         ORDER BY p.photo_id LIMIT ?`,
      )
      .pluck()
      .all(version, limit) as number[];
  }

  indexedCount(): number {
    return this.ps.prepare(`SELECT COUNT(*) FROM photos WHERE status = 'indexed'`).pluck().get() as number;
  }

  // ── embeddings ─────────────────────────────────────────────────────────────

  getEmbedding(photoId: number, version: number): Float32Array | undefined {
    const b = this.ps
      .prepare('SELECT vector FROM embeddings WHERE photo_id = ? AND head_version = ?')
      .pluck()
      .get(photoId, version) as Buffer | undefined;
    return b && blobToFloat32(b);
  }

  /** Embeddings of indexed photos for a head version, in id order, a chunk at a time. */
  embeddingChunk(
    version: number,
    afterId: number,
    limit: number,
  ): { ids: number[]; vectors: Float32Array[] } {
    const rows = this.ps
      .prepare(
        `SELECT e.photo_id AS id, e.vector FROM embeddings e JOIN photos ph ON ph.id = e.photo_id
         WHERE e.head_version = ? AND e.photo_id > ? AND ph.status = 'indexed' ORDER BY e.photo_id LIMIT ?`,
      )
      .all(version, afterId, limit) as { id: number; vector: Buffer }[];
    return { ids: rows.map((r) => r.id), vectors: rows.map((r) => blobToFloat32(r.vector)) };
  }

  /** All of embeddingChunk, page by page. */
  embeddingPages(version: number, pageSize: number): Generator<{ ids: number[]; vectors: Float32Array[] }> {
    return keysetPages(pageSize, (after, limit) => this.embeddingChunk(version, after, limit));
  }

  /** Ids of the indexed photos with an embedding of this head version (no vectors: cheap at any size). */
  embeddingIds(version: number): number[] {
    return this.ps
      .prepare(
        `SELECT e.photo_id FROM embeddings e JOIN photos ph ON ph.id = e.photo_id
         WHERE e.head_version = ? AND ph.status = 'indexed'`,
      )
      .pluck()
      .all(version) as number[];
  }

  embeddingFingerprint(version: number): { count: number; idSum: number } {
    const r = this.ps
      .prepare(
        `SELECT COUNT(*) AS count, COALESCE(SUM(e.photo_id), 0) AS idSum FROM embeddings e
         JOIN photos ph ON ph.id = e.photo_id WHERE e.head_version = ? AND ph.status = 'indexed'`,
      )
      .get(version) as { count: number; idSum: number };
    return r;
  }

  putEmbeddings(version: number, ids: number[], vectors: Float32Array[]): void {
    this.transaction(() => {
      const stmt = this.ps.prepare(
        'INSERT OR REPLACE INTO embeddings (photo_id, head_version, vector) VALUES (?, ?, ?)',
      );
      ids.forEach((id, i) => stmt.run(id, version, float32ToBlob(vectors[i])));
    });
  }

  // ── heads ──────────────────────────────────────────────────────────────────

  insertHead(h: {
    modelId: string;
    kind: string;
    trainedOn: number;
    weights: HeadWeights;
    metrics?: Record<string, unknown>;
  }): number {
    const r = this.ps
      .prepare(
        `INSERT INTO heads (created_at, model_id, combo, kind, trained_on, weights, metrics, active)
         VALUES (?, ?, ?, ?, ?, ?, ?, 0)`,
      )
      .run(
        Date.now(),
        h.modelId,
        h.weights.combo,
        h.kind,
        h.trainedOn,
        encodeHead(h.weights),
        h.metrics ? JSON.stringify(h.metrics) : null,
      );
    return Number(r.lastInsertRowid);
  }

  activeHead(modelId?: string): HeadRow | undefined {
    const r = (
      modelId === undefined
        ? this.ps.prepare('SELECT * FROM heads WHERE active = 1').get()
        : this.ps.prepare('SELECT * FROM heads WHERE active = 1 AND model_id = ?').get(modelId)
    ) as RawHead | undefined;
    return r && toHead(r);
  }

  getHead(version: number): HeadRow | undefined {
    const r = this.ps.prepare('SELECT * FROM heads WHERE version = ?').get(version) as RawHead | undefined;
    return r && toHead(r);
  }

  listHeads(): HeadSummary[] {
    return (this.ps.prepare('SELECT * FROM heads ORDER BY version').all() as RawHead[]).map((r) => {
      const { weights, ...rest } = toHead(r);
      return { ...rest, dim: headOutDim(weights) };
    });
  }

  /**
   * Makes `version` the active head and drops other versions' embeddings (they are re-projected from
   * pooled vectors in seconds if that head is chosen again). Run inside the caller's transaction.
   */
  /** Makes `version` the active head; other versions' embeddings are deleted unless `keepOthers`
   * (a large library's are then dropped afterwards, a chunk at a time: see dropEmbeddings). */
  activateHead(version: number, keepOthers = false): void {
    this.transaction(() => {
      this.ps.prepare('UPDATE heads SET active = (version = ?)').run(version);
      if (!keepOthers) this.ps.prepare('DELETE FROM embeddings WHERE head_version != ?').run(version);
    });
  }

  /** Head versions that have embeddings stored. */
  embeddingVersions(): number[] {
    return this.ps.prepare('SELECT DISTINCT head_version FROM embeddings').pluck().all() as number[];
  }

  /** Deletes up to `limit` embeddings of head `version`; returns how many it deleted. */
  dropEmbeddings(version: number, limit: number): number {
    return this.ps
      .prepare(
        `DELETE FROM embeddings WHERE head_version = ? AND photo_id IN
           (SELECT photo_id FROM embeddings WHERE head_version = ? LIMIT ?)`,
      )
      .run(version, version, limit).changes;
  }

  // ── albums ─────────────────────────────────────────────────────────────────

  createAlbum(name: string): number {
    return Number(
      this.ps.prepare('INSERT INTO albums (name, created_at) VALUES (?, ?)').run(name, Date.now())
        .lastInsertRowid,
    );
  }

  renameAlbum(id: number, name: string): boolean {
    return this.ps.prepare('UPDATE albums SET name = ? WHERE id = ?').run(name, id).changes === 1;
  }

  deleteAlbum(id: number): boolean {
    return this.ps.prepare('DELETE FROM albums WHERE id = ?').run(id).changes === 1;
  }

  listAlbums(): AlbumRow[] {
    const rows = this.ps
      .prepare(
        `SELECT a.id, a.name, a.created_at, (SELECT COUNT(*) FROM album_photos ap WHERE ap.album_id = a.id) AS count
         FROM albums a ORDER BY a.name`,
      )
      .all() as { id: number; name: string; created_at: number; count: number }[];
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, count: r.count }));
  }

  addToAlbum(albumId: number, photoIds: number[]): number {
    return this.transaction(() => {
      const stmt = this.ps.prepare(
        'INSERT OR IGNORE INTO album_photos (album_id, photo_id, added_at) VALUES (?, ?, ?)',
      );
      let n = 0;
      for (const id of photoIds) n += stmt.run(albumId, id, Date.now()).changes;
      return n;
    });
  }

  removeFromAlbum(albumId: number, photoIds: number[]): number {
    return this.transaction(() => {
      const stmt = this.ps.prepare('DELETE FROM album_photos WHERE album_id = ? AND photo_id = ?');
      let n = 0;
      for (const id of photoIds) n += stmt.run(albumId, id).changes;
      return n;
    });
  }

  albumPhotoIds(albumId: number): number[] {
    return this.ps
      .prepare('SELECT photo_id FROM album_photos WHERE album_id = ? ORDER BY added_at, photo_id')
      .pluck()
      .all(albumId) as number[];
  }

  // ── jobs ───────────────────────────────────────────────────────────────────

  /** Starts a job, first making sure the disk reserve exists (a run before may have spent it). */
  startJob(kind: string): number {
    this.reserve?.hold();
    return Number(
      this.ps
        .prepare(`INSERT INTO jobs (kind, status, started_at) VALUES (?, 'running', ?)`)
        .run(kind, Date.now()).lastInsertRowid,
    );
  }

  updateJob(id: number, progress: unknown): void {
    this.ps.prepare('UPDATE jobs SET progress = ? WHERE id = ?').run(JSON.stringify(progress), id);
  }

  /** Records how a job ended; on a full disk it spends the reserve to do so (a run that filled it ends here). */
  finishJob(id: number, status: JobRow['status'], error: string | null = null): void {
    const write = () =>
      this.ps
        .prepare('UPDATE jobs SET status = ?, finished_at = ?, error = ? WHERE id = ?')
        .run(status, Date.now(), error, id);
    try {
      write();
    } catch (err) {
      if (!isDiskFull(err) || !this.reserve?.release()) throw err;
      write();
    }
  }

  /** Jobs left 'running' by a crash are marked interrupted at open. */
  markInterruptedJobs(): number {
    return this.ps
      .prepare(`UPDATE jobs SET status = 'interrupted', finished_at = ? WHERE status = 'running'`)
      .run(Date.now()).changes;
  }

  listJobs(limit = 20): JobRow[] {
    const rows = this.ps.prepare('SELECT * FROM jobs ORDER BY id DESC LIMIT ?').all(limit) as {
      id: number;
      kind: string;
      status: JobRow['status'];
      started_at: number;
      finished_at: number | null;
      progress: string | null;
      error: string | null;
    }[];
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      status: r.status,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      progress: r.progress ? JSON.parse(r.progress) : null,
      error: r.error,
    }));
  }
}
