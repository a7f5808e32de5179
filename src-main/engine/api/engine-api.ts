/**
 * STUB — the lead wires the real Library here at integration. The shells (Electron main, `likeness serve`)
 * depend only on this signature.
 */
import type { EngineApi, EventSource } from './contract';
import type { ImageSource } from './media';

export interface EngineApiOptions {
  /** library directory (database, HNSW index, thumbnails) */
  dbDir: string;
  /** moves a file to the OS trash; injected by the host (Electron: shell.trashItem) — never a hard delete */
  trash: (path: string) => Promise<void>;
}

export interface EngineHost {
  api: EngineApi;
  events: EventSource;
  images: ImageSource;
  /** stops jobs at a resumable point and closes the database */
  close(): Promise<void>;
}

export async function createEngineApi(_options: EngineApiOptions): Promise<EngineHost> {
  throw new Error('createEngineApi is not wired yet (src-main/engine/api/engine-api.ts is a stub)');
}
