/**
 * Fine-tuning as the app runs it: the albums are the classes, their photos' cached pooled vectors the
 * data, the active head the starting point. Training runs in a worker (run-in-worker.ts). Every candidate
 * is kept as a new version with the trainer's verdict; one the trainer adopts is made active (the user can
 * always go back), a rejected one is kept for the user to use anyway. The Library owns the one job and
 * hands it the data through `TrainingSource`, so the job never sees the store.
 */
import type { HeadWeights, Pooled } from '../head/head-types';
import { silentLogger, type Logger } from '../log/logger';
import { startTrainingWorker, type TrainingHandle } from './run-in-worker';
import { FINETUNE_DEFAULTS, type FinetuneOptions } from './trainer';
import type { EpochProgress, FineTuneOutcome, TrainingState } from './training-state';

/** What a run trains on; built by the Library (training-set rules live in training-set.ts). */
export interface TrainingSet {
  pooled: Pooled[];
  labels: number[];
  /** photos of the rest of the library (the trainer's library mean and self-training pool) */
  library: Pooled[];
  initHead: HeadWeights;
  /** album id → name, for the verdict's plain words */
  albumNames: Record<string, string>;
}

/** A trained head to keep, with the trainer's verdict. */
export interface TrainedCandidate {
  weights: HeadWeights;
  trainedOn: number;
  adopted: boolean;
  metrics: Record<string, unknown>;
}

export interface TrainingSource {
  /** throws a domain error when the albums cannot be trained on */
  trainingSet(albumIds?: number[]): TrainingSet;
  /** stores the candidate (and adopts it if the trainer did); resolves to its version */
  keepCandidate(candidate: TrainedCandidate): Promise<number>;
}

export interface FineTuneEvents {
  progress(p: EpochProgress): void;
  done(d: FineTuneOutcome): void;
}

export class FineTuneJob {
  private running: { handle: TrainingHandle; finished: Promise<void>; state: TrainingState } | null = null;

  constructor(
    private readonly source: TrainingSource,
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
    const set = this.source.trainingSet(albumIds);
    const epochs = this.options.maxEpochs ?? FINETUNE_DEFAULTS.maxEpochs;
    const state: TrainingState = { epochs, history: [] };
    const handle = startTrainingWorker(
      { ...set, options: this.options },
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
        const version = await this.source.keepCandidate({
          weights: result.head,
          trainedOn: set.pooled.length,
          adopted: result.adopted,
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

  /** Asks the worker to stop; the run then ends with a 'done' that says so. */
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
