/** Messages between AnnIndex and its build worker (graph-build.worker.ts). */
export interface GraphBuildRequest {
  dbDir: string;
  headVersion: number;
  dim: number;
  m: number;
  efConstruction: number;
  /** where the worker writes the finished graph */
  outFile: string;
}

export type GraphBuildReply =
  | { type: 'progress'; added: number; total: number }
  | { type: 'done'; file: string; count: number; checksum: string }
  | { type: 'error'; message: string };
