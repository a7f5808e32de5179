/** Messages between run-in-worker.ts (the caller's thread) and worker.ts (the training thread). */
import type { EpochReport, TrainInput, TrainResult } from './trainer';

export interface WorkerRequest {
  input: TrainInput;
  /** tests only: crash ('throw', uncaught) or exit the worker after this epoch */
  faultAfterEpoch?: number;
  fault?: 'throw' | 'exit';
}

export type WorkerReply =
  | { type: 'log'; message: string }
  | { type: 'epoch'; epoch: EpochReport }
  | { type: 'done'; result: TrainResult }
  | { type: 'cancelled'; name: string; message: string }
  | { type: 'error'; name: string; message: string };
