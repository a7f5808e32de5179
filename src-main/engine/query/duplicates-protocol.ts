/** Messages between the engine and the duplicates worker (duplicates.worker.ts). */
import type { FoundDuplicates } from './duplicate-finder';

export interface DuplicatesRequest {
  id: number;
  dbDir: string;
  /** a snapshot of the graph to scan for candidates, or null to compare all pairs (a small library) */
  graphFile: string | null;
  dim: number;
  headVersion: number;
  threshold: number;
}

export type DuplicatesReply = { id: number; ok: FoundDuplicates } | { id: number; error: string };
