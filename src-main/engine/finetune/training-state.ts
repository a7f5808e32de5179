/**
 * What a fine-tuning run reports (the contract's 'finetune.progress' and 'finetune.done' payloads and
 * Status.training are these types). Dependency-free: the contract and the renderer import it.
 */

/** One epoch of a run; epoch 0 is the starting head (no loss yet). */
export interface EpochProgress {
  epoch: number;
  epochs: number;
  loss: number | null;
  heldOutR1: number | null;
}

/** How a run ended. */
export interface FineTuneOutcome {
  adopted: boolean;
  /** the candidate's head version, kept whether adopted or not (null: the run ended without one) */
  version: number | null;
  /** held-out Recall@1 of the current head and of the candidate */
  before: number | null;
  after: number | null;
  message: string;
}

/** A fine-tuning run in progress: its epochs so far, from epoch 0 (the current head's held-out figure). */
export interface TrainingState {
  /** the most epochs the run may take */
  epochs: number;
  history: EpochProgress[];
}
