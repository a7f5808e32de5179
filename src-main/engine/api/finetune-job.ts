/**
 * Fine-tuning as the app runs it: the albums are the classes, their photos' cached pooled vectors the
 * data, the active head the starting point. Training runs in a worker (finetune/run-in-worker.ts). Every
 * candidate is stored as a new version with the trainer's verdict; one the trainer adopts is made active
 * (the user can always go back), a rejected one is kept for the user to use anyway.
 */
import { InvalidInputError, NotFoundError } from '../errors';
import type { Pooled } from '../head/head-types';
import { startTrainingWorker, type TrainingHandle } from '../finetune/run-in-worker';
import { FINETUNE_DEFAULTS, type FinetuneOptions } from '../finetune/trainer';
import type { Library } from '../library';
import { silentLogger, type Logger } from '../log/logger';
import type { EventPayloads, TrainingState } from './contract';

/** The trainer's own minimum: two albums with four photos each (it holds some out to judge the result). */
const MIN_ALBUMS = 2;
const MIN_PHOTOS = 4;
/** photos of the rest of the library passed to the trainer (its library mean and self-training pool) */
const LIBRARY_SAMPLE = 5000;

export interface FineTuneEvents {
  progress(p: EventPayloads['finetune.progress']): void;
  done(d: EventPayloads['finetune.done']): void;
}

export class FineTuneJob {
  private running: { handle: TrainingHandle; finished: Promise<void>; state: TrainingState } | null = null;

  constructor(
    private readonly library: Library,
    private readonly on: FineTuneEvents,
    /** overrides of the trainer's defaults (tests use fewer epochs) */
    private readonly options: Partial<FinetuneOptions> = {},
    /** the worker's lines and the run's outcome */
    private readonly log: Logger = silentLogger,
  ) {}

  get isRunning(): boolean {
    return this.running !== null;
  }

  /** The run in progress and its epochs so far (for Status), or null. */
  get state(): TrainingState | null {
    const s = this.running?.state;
    return s ? { epochs: s.epochs, history: s.history.map((h) => ({ ...h })) } : null;
  }

  /** Starts a run on the given albums (default: all); false if one is already running. */
  start(albumIds?: number[]): boolean {
    if (this.running) return false;
    const lib = this.library;
    const albums = lib.listAlbums();
    const chosen = albumIds ? albums.filter((a) => albumIds.includes(a.id)) : albums;
    const unknown = albumIds?.filter((id) => !albums.some((a) => a.id === id)) ?? [];
    if (unknown.length) throw new NotFoundError(`No album with id ${unknown[0]}`);

    // A photo in several chosen albums would be both a positive and a negative: it keeps its first album.
    const modelId = lib.embedder.modelId;
    const seen = new Set<number>();
    const pooled: Pooled[] = [];
    const labels: number[] = [];
    const perAlbum = new Map<number, number>();
    for (const album of chosen) {
      for (const id of lib.albumPhotoIds(album.id)) {
        if (seen.has(id)) continue;
        seen.add(id);
        const p = lib.store.getPooled(id);
        if (!p || p.modelId !== modelId || lib.getPhoto(id)?.status !== 'indexed') continue;
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

    const library = librarySample(lib, seen, LIBRARY_SAMPLE);
    const initHead = lib.heads.active.weights;
    const epochs = this.options.maxEpochs ?? FINETUNE_DEFAULTS.maxEpochs;
    const state: TrainingState = { epochs, history: [] };
    const handle = startTrainingWorker(
      {
        pooled,
        labels,
        initHead,
        library,
        options: this.options,
        albumNames: Object.fromEntries(chosen.map((a) => [String(a.id), a.name])),
      },
      {
        onEpoch: (e) => {
          const loss = Number.isFinite(e.loss) ? e.loss : null;
          const p = { epoch: e.epoch, epochs, loss, heldOutR1: e.heldOutR1 };
          state.history.push(p);
          this.on.progress(p);
        },
        log: (line) => this.log.info(line),
      },
    );
    const finished = handle.result
      .then(async (result) => {
        const before = result.metrics.before.r1;
        const after = result.metrics.after.r1;
        // a run from the current head where no epoch helped has no candidate but that head itself
        const trained = result.metrics.bestEpoch > 0 || result.options.albumInit;
        if (!result.adopted && !trained) {
          this.on.done({ adopted: false, version: null, before, after, message: result.reason });
          return;
        }
        // Every candidate is kept, adopted or not: the user may use a rejected one anyway, knowing why.
        const version = lib.store.insertHead({
          modelId,
          kind: 'trained',
          trainedOn: pooled.length,
          weights: result.head,
          metrics: {
            heldOutR1: after,
            before,
            bestEpoch: result.metrics.bestEpoch,
            albums: result.albums,
            adopted: result.adopted,
            verdict: result.reason,
            // the evidence behind the verdict: all album photos cross-validated, and the library guard
            ...(result.metrics.cv ? { crossValidated: result.metrics.cv } : {}),
            ...(result.metrics.guard ? { guard: result.metrics.guard } : {}),
          },
        });
        if (result.adopted) await lib.useHead(version);
        this.on.done({ adopted: result.adopted, version, before, after, message: result.reason });
      })
      .catch((error: Error) => {
        const cancelled = error.name === 'AbortError';
        if (cancelled) this.log.info(error.message);
        else this.log.warn(`fine-tuning failed: ${error.message}`);
        this.on.done({
          adopted: false,
          version: null,
          before: null,
          after: null,
          message: cancelled ? 'Cancelled; the current head is unchanged.' : error.message,
        });
      })
      .finally(() => {
        this.running = null;
      });
    this.running = { handle, finished, state };
    return true;
  }

  /** Asks the worker to stop; the run then ends with a 'finetune.done' that says so. */
  cancel(): boolean {
    if (!this.running) return false;
    this.running.handle.cancel();
    return true;
  }

  /** Stops a run (if any) and waits for it to settle. */
  async close(): Promise<void> {
    const r = this.running;
    if (!r) return;
    r.handle.cancel();
    await r.finished;
  }
}

/** An even sample (by id) of the indexed photos outside the chosen albums, at most `max`. */
function librarySample(lib: Library, exclude: Set<number>, max: number): Pooled[] {
  const modelId = lib.embedder.modelId;
  const ids = lib.store.pooledIds(modelId).filter((id) => !exclude.has(id));
  const stride = Math.max(1, ids.length / max);
  const out: Pooled[] = [];
  for (let i = 0; i < ids.length && out.length < max; i += stride) {
    const p = lib.store.getPooled(ids[Math.floor(i)]);
    if (p) out.push(p.pooled);
  }
  return out;
}
