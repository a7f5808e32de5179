/** Messages between the engine and the duplicates worker (duplicates.worker.ts). */
import type { FoundDuplicates } from './duplicate-finder';

export interface DuplicatesWorkerData {
  /** the library it reads, through its own read-only connection */
  dbDir: string;
}

export interface DuplicatesRequest {
  id: number;
  /** a snapshot of the graph to scan for candidates, or null to compare all pairs (a small library) */
  graphFile: string | null;
  dim: number;
  headVersion: number;
  threshold: number;
}

export type DuplicatesReply = { id: number; ok: FoundDuplicates } | { id: number; error: string };
