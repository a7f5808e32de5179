import fs from 'node:fs';
import path from 'node:path';
import { decodeConcurrency } from '../../boot/threadpool.cjs';
import type { Pooled } from '../head/head-types';
import type { AnnIndex } from '../index/ann-index';
import { writeFileAtomic } from '../index/file-checksum';
import type { Store } from '../store/store';
import { describeWriteError } from '../store/write-errors';
import { BoundedQueue } from './bounded-queue';
import type { JobOutcome, JobProgress, JobState } from './job-progress';
import type { DecodedPhoto, PhotoEmbedder } from './embedder';
import type { HeadManager } from './head-manager';
import type { LearnMoment } from './head-policy';
import { TypedEmitter } from './typed-emitter';

export type IndexState = Exclude<JobState, 'scanning'>;

/** A run's progress as every surface shows it (the rate over the last ~10 s), plus its failures apart. */
export interface IndexProgress extends JobProgress {
  failed: number;
  state: IndexState;
}

export interface IndexSummary extends JobOutcome {
  seconds: number;
}

export interface IndexerEvents {
  progress: IndexProgress;
  /** one photo committed (id) */
  photo: { id: number; path: string; status: 'indexed' | 'failed' | 'missing'; error?: string };
  done: IndexSummary;
  /** a new head version was adopted (beside a run or after it) */
  head: { version: number; kind: string };
  /** the head learning that runs asked for has ended (adopted or not): the index is settled */
  settled: undefined;
}

export interface IndexerOptions {
  /** photos per backbone run; by default the provider's (embedder.accelerator.batchSize) */
  batchSize: number;
  /** decodes in flight (sharp decodes in libuv's pool, which every entry point sizes to match) */
  decodeConcurrency: number;
  /** decoded photos waiting for the model, beyond which decoding waits (back-pressure) */
  queueCapacity: number;
}

export const DEFAULT_INDEXER_OPTIONS: IndexerOptions = {
  batchSize: 8,
  decodeConcurrency: decodeConcurrency(),
  // two batches ready while the model runs one, and room for every decoder to hand its photo over
  queueCapacity: Math.max(16, decodeConcurrency()),
};

interface Decoded {
  id: number;
  path: string;
  photo: DecodedPhoto;
}

/** Makes sure an error message names the file. */
export function fileError(file: string, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.includes(file) ? msg : `${file}: ${msg}`;
}

/**
 * Indexes every pending photo: decode (bounded concurrency) → model batches → head → one transaction per
 * photo → HNSW. The pending rows are the work queue, so a killed run resumes where it stopped and a
 * finished photo is never redone. Per-file failures are recorded and the run goes on.
 */
/** The thumbnails' folder inside the library folder. */
export const THUMBNAILS_FOLDER = 'thumbs';

/** Where photo `id`'s thumbnail is kept (256 sub-folders, so none grows huge). */
export function thumbnailFile(thumbsDir: string, id: number): string {
  return path.join(thumbsDir, String(id % 256).padStart(3, '0'), `${id}.webp`);
}

export class Indexer extends TypedEmitter<IndexerEvents> {
  readonly options: IndexerOptions;
  private state: IndexState = 'done';
  private pauseGate: Promise<void> | null = null;
  private releasePause: (() => void) | null = null;
  private running: Promise<IndexSummary> | null = null;
  private progress: IndexProgress | null = null;
  /** the head learning in flight, beside a run or after it (one at a time) */
  private learning: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly index: AnnIndex,
    private readonly heads: HeadManager,
    private readonly embedder: PhotoEmbedder,
    private readonly thumbsDir: string,
    options: Partial<IndexerOptions> = {},
  ) {
    super();
    const batchSize = embedder.accelerator?.batchSize ?? DEFAULT_INDEXER_OPTIONS.batchSize;
    this.options = { ...DEFAULT_INDEXER_OPTIONS, batchSize, ...options };
  }

  get isRunning(): boolean {
    return this.running !== null;
  }

  get lastProgress(): IndexProgress | null {
    return this.progress;
  }

  /** Whether a head is being learned (and switched to) for the library, beside a run or after it. */
  get isLearning(): boolean {
    return this.learning !== null;
  }

  /** Resolves once the head learning that runs so far asked for has ended (adopted or not). */
  async whenHeadSettled(): Promise<void> {
    while (this.learning) await this.learning;
  }

  /** Starts (or joins) a run over all pending photos. */
  run(): Promise<IndexSummary> {
    if (!this.running) {
      this.running = this.doRun().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  pause(): boolean {
    if (!this.running || this.state !== 'running') return false;
    this.state = 'paused';
    this.pauseGate = new Promise((r) => (this.releasePause = r));
    this.emitProgress();
    return true;
  }

  resume(): boolean {
    if (this.state !== 'paused') return false;
    this.state = 'running';
    this.releasePause?.();
    this.pauseGate = null;
    this.emitProgress();
    return true;
  }

  /** Stops taking work; photos in flight are not committed and stay pending. */
  cancel(): boolean {
    if (!this.running || this.state === 'cancelling') return false;
    if (this.state === 'paused') this.resume();
    this.state = 'cancelling';
    this.emitProgress();
    return true;
  }

  thumbnailPath(id: number): string {
    return thumbnailFile(this.thumbsDir, id);
  }

  private async doRun(): Promise<IndexSummary> {
    const started = Date.now();
    // The model loads lazily; load it before taking photos, so that an unusable model fails the run
    // (with its reason) rather than every photo.
    if (this.embedder.load && this.store.counts().pending > 0) await this.embedder.load();
    this.state = 'running';
    const jobId = this.store.startJob('index');
    // A failed write (disk full, database gone read-only) stops the whole run: it is recorded, reported and
    // resumable, never an unhandled rejection. Per-photo decode/model errors are not fatal.
    let fatal: Error | null = null;
    const stopRun = (err: unknown) => {
      fatal ??= describeWriteError(err, path.dirname(this.thumbsDir));
      if (this.state === 'paused') this.resume();
      this.state = 'cancelling';
    };
    const inFlight = new Set<number>();
    let done = 0;
    let failed = 0;
    const recent: number[] = [];
    let current: string | null = null;
    // In-flight photos are still 'pending' in SQLite, so pending counts everything not yet finished.
    // Re-read at most once a second: a rescan during the run may queue more photos.
    // Pending rows include the photos in flight, so done + failed + pending is the whole run.
    let totalAt = 0;
    let totalCache = 0;
    const total = () => {
      if (Date.now() - totalAt > 1000) {
        totalCache = done + failed + this.store.counts().pending;
        totalAt = Date.now();
      }
      return Math.max(totalCache, done + failed);
    };
    const progress = (rate: number, etaSeconds: number | null): IndexProgress => ({
      done: done + failed,
      failed,
      total: total(),
      rate,
      etaSeconds: etaSeconds === null ? null : Math.max(0, Math.round(etaSeconds)),
      current: current === null ? null : path.basename(current),
      state: this.state,
    });
    this.progress = progress(0, null);
    const update = (p: string) => {
      current = p;
      const now = Date.now();
      recent.push(now);
      while (recent.length > 1 && now - recent[0] > 10_000) recent.shift();
      const span = (now - recent[0]) / 1000;
      const rate = recent.length > 1 && span > 0 ? (recent.length - 1) / span : 0;
      this.progress = progress(rate, rate > 0 ? (total() - done - failed) / rate : null);
      this.emit('progress', this.progress);
    };

    // Work queue: pending rows in id order; a second pass picks up photos re-queued by a rescan meanwhile.
    let cursor = 0;
    let passEmpty = false;
    const nextId = (): number | undefined => {
      for (;;) {
        const ids = this.store.pendingIds(32, cursor).filter((id) => !inFlight.has(id));
        if (ids.length) {
          passEmpty = false;
          cursor = ids[0];
          return ids[0];
        }
        if (cursor === 0 || passEmpty) return undefined;
        cursor = 0;
        passEmpty = true;
      }
    };

    const queue = new BoundedQueue<Decoded>(this.options.queueCapacity);
    const stopping = () => this.isCancelling();

    const fail = (id: number, file: string, err: unknown) => {
      inFlight.delete(id);
      const code = (err as NodeJS.ErrnoException)?.code;
      const gone = code === 'ENOENT' || !fs.existsSync(file);
      const message = gone ? `${file}: file disappeared before it could be decoded` : fileError(file, err);
      // Only if still pending: a photo trashed or removed meanwhile stays out of the library.
      if (!this.store.settlePending(id, gone ? 'missing' : 'failed', message)) return;
      if (!gone) failed++;
      this.emit('photo', { id, path: file, status: gone ? 'missing' : 'failed', error: message });
      update(file);
    };

    const decodeWorker = async () => {
      for (;;) {
        if (this.pauseGate) await this.pauseGate;
        if (stopping()) return;
        const id = nextId();
        if (id === undefined) return;
        const row = this.store.getPhoto(id);
        if (!row) continue;
        inFlight.add(id);
        try {
          const photo = await this.embedder.decode(row.path);
          if (photo.tensor.pixels.length === 0) throw new Error('decoder returned an empty tensor');
          await queue.push({ id, path: row.path, photo });
        } catch (err) {
          fail(id, row.path, err);
        }
      }
    };
    const guarded = (worker: () => Promise<void>) => () => worker().catch(stopRun);

    // One batch in the model while the previous one is committed: the commit (thumbnails, SQLite, the
    // index) runs on this thread, and the model would otherwise wait for it after every batch.
    type Embedded = { batch: Decoded[]; pooled: Pooled[] | null };
    const takeAndEmbed = async (): Promise<Embedded | null> => {
      if (this.pauseGate) await this.pauseGate;
      const batch = await queue.take(this.options.batchSize);
      if (!batch.length) return null;
      if (stopping()) return { batch, pooled: null };
      try {
        const pooled = await this.embedder.embed(batch.map((b) => b.photo.tensor));
        if (pooled.length !== batch.length)
          throw new Error(`model returned ${pooled.length} results for ${batch.length} photos`);
        return { batch, pooled };
      } catch (err) {
        for (const b of batch) fail(b.id, b.path, err);
        return { batch, pooled: null };
      }
    };
    const embedWorker = async () => {
      let next = takeAndEmbed();
      for (;;) {
        const current = await next;
        if (!current) return;
        // The next batch's pooled vectors do not depend on the head: a mid-run head change below is safe.
        next = takeAndEmbed();
        const { batch, pooled } = current;
        if (!pooled || stopping()) {
          for (const b of batch) inFlight.delete(b.id);
          continue;
        }
        let { version: headVersion, embeddings } = await this.heads.projectBatchOf(pooled);
        // A head switch landed meanwhile: its catch-up has run, so these photos are projected here.
        if (this.heads.active.version !== headVersion) {
          headVersion = this.heads.active.version;
          embeddings = this.heads.project(pooled);
        }
        for (const b of batch) this.writeThumbnail(b.id, b.photo.thumbnail);
        // One SQLite commit per batch (each photo's rows stay atomic; a crash leaves the batch pending).
        // Only photos still pending commit: one trashed or removed meanwhile is not brought back.
        let committed: boolean[];
        try {
          committed = this.store.transaction(() =>
            batch.map((b, i) =>
              this.store.commitIndexed({
                photoId: b.id,
                pooled: pooled[i],
                modelId: this.embedder.modelId,
                embedding: embeddings[i],
                headVersion,
                width: b.photo.width,
                height: b.photo.height,
                takenAt: b.photo.takenAt,
                fingerprint: b.photo.fingerprint,
              }),
            ),
          );
        } catch (err) {
          committed = batch.map(() => false);
          stopRun(err);
        }
        for (const [i, b] of batch.entries()) {
          inFlight.delete(b.id);
          // Trashed, removed or failed to commit: no thumbnail or index entry may outlive it.
          if (!committed[i]) {
            fs.rmSync(this.thumbnailPath(b.id), { force: true });
            continue;
          }
          this.index.add(b.id, embeddings[i]);
          done++;
          this.emit('photo', { id: b.id, path: b.path, status: 'indexed' });
          update(b.path);
        }
        if (stopping()) continue;
        this.store.updateJob(jobId, { done, failed });
        // Learned beside the run, not in its way: the head switch re-projects in its worker and catches
        // up the photos committed meanwhile (head-manager.ts), so the model need not wait for it.
        this.scheduleHeadLearning('mid-run');
      }
    };

    // The consumer's promise is guarded from the start: it may fail while the decoders are still running,
    // and then the queue is closed so no decoder waits forever to hand it a photo.
    const consumer = embedWorker().catch((err: unknown) => {
      stopRun(err);
      queue.close();
    });
    const decoders = Array.from({ length: this.options.decodeConcurrency }, guarded(decodeWorker));
    try {
      await Promise.all(decoders);
    } finally {
      queue.close();
      await consumer;
    }
    const cancelled = this.isCancelling();
    // After the run, not inside it: every photo is searchable now (with the current head), and the
    // library's new head is learned and switched to beside whatever comes next, as mid-run. Awaiting it
    // here held the run's end by 1.5 s at 240 photos, by seconds more on a large library (whenHeadSettled).
    if (!cancelled && !fatal) this.scheduleHeadLearning('end-of-run');
    const end: IndexSummary['state'] = fatal ? 'failed' : cancelled ? 'cancelled' : 'done';
    this.state = end;
    try {
      this.store.finishJob(jobId, end, fatal ? (fatal as Error).message : null);
      await this.index.saveInBackground();
    } catch (err) {
      // Still full: the job row is marked interrupted at the next open; the index is rebuilt from SQLite.
      if (!fatal) stopRun(err);
      this.state = 'failed';
    }
    const summary: IndexSummary = {
      done: done + failed,
      failed,
      total: done + failed,
      state: this.state === 'failed' ? 'failed' : end,
      seconds: (Date.now() - started) / 1000,
      ...(fatal ? { error: (fatal as Error).message } : {}),
    };
    this.progress = progress(this.progress!.rate, 0);
    this.emit('progress', this.progress);
    this.emit('done', summary);
    return summary;
  }

  /**
   * Learns the head the policy asks for at `moment`. Beside a run, one at a time; after a run, after the
   * learning in flight (the end-of-run head is learned on the whole run, so it is not skipped). Once the
   * library is closing (heads.isClosed), nothing more is learned.
   */
  private scheduleHeadLearning(moment: LearnMoment): void {
    if (this.learning ? moment === 'mid-run' : !this.heads.needsRelearn(moment)) return;
    const previous = this.learning ?? Promise.resolve();
    const mine: Promise<void> = previous
      .then(async () => {
        if (this.heads.isClosed || !this.heads.needsRelearn(moment)) return;
        const h = await this.heads.learnWhitening(moment);
        if (h) this.emit('head', { version: h.version, kind: h.kind });
      })
      .catch((err: Error) => {
        // Keep the current head; the next run tries again. (Closing kills the build: not worth a word.)
        if (!this.heads.isClosed) process.emitWarning(`learning the whitening head failed: ${err.message}`);
      })
      .finally(() => {
        if (this.learning === mine) {
          this.learning = null;
          this.emit('settled', undefined);
        }
      });
    this.learning = mine;
  }

  private isCancelling(): boolean {
    return this.state === 'cancelling';
  }

  private emitProgress(): void {
    if (!this.progress) return;
    this.progress = { ...this.progress, state: this.state };
    this.emit('progress', this.progress);
  }

  private writeThumbnail(id: number, data: Buffer | null): void {
    if (!data?.length) return;
    const file = this.thumbnailPath(id);
    try {
      try {
        writeFileAtomic(file, data);
      } catch (err) {
        // The folder is made on the first miss, not checked on every photo (a mkdir each cost ~0.7 ms).
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        fs.mkdirSync(path.dirname(file), { recursive: true });
        writeFileAtomic(file, data);
      }
    } catch (err) {
      // A missing thumbnail is regenerated on demand; it must not fail the photo.
      process.emitWarning(`thumbnail for photo ${id} not written: ${(err as Error).message}`);
    }
  }
}
