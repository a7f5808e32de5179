/**
 * Where an indexing job stands, as every surface shows it (the contract's `JobProgress` is this type).
 * Dependency-free: the contract and the renderer import it.
 */
/** 'scanning' is the renderer's own state between adding a folder and the first progress. */
export type JobState = 'scanning' | 'running' | 'paused' | 'cancelling' | 'done' | 'cancelled' | 'failed';

export interface JobProgress {
  /** photos finished, failed ones included */
  done: number;
  total: number;
  /** photos per second over the recent window */
  rate: number;
  /** whole seconds, never negative */
  etaSeconds: number | null;
  /** file name being processed (never its path), if any */
  current: string | null;
  state: JobState;
}

/** How an indexing run ended (the contract's 'index.done'). */
export interface JobOutcome {
  /** photos finished, failed ones included */
  done: number;
  failed: number;
  total: number;
  state: 'done' | 'cancelled' | 'failed';
  /** why the run stopped (state 'failed'), in plain words */
  error?: string;
}
