/** Messages between AnnIndex and its worker (graph-build.worker.ts). */
export interface GraphBuildRequest {
  dbDir: string;
  /** set to 1 by the starter to stop the job: the worker exits at its next check (terminating a worker
   * inside hnswlib's native addPoint aborts the whole process) */
  stop?: Int32Array;
  /** embeddings of these head versions are deleted first, in small transactions (a switch's leftovers) */
  drop?: number[];
  /** the head version whose embeddings the graph is built over */
  headVersion?: number;
  /** project the library's pooled vectors with head `headVersion` first (ONNX Runtime, in the worker) */
  reproject?: { modelId: string };
  /** build the graph and write it here; absent: a clean-up job only */
  build?: { dim: number; m: number; efConstruction: number; outFile: string };
}

export type GraphBuildReply =
  | { type: 'progress'; phase: 'reproject' | 'build'; added: number; total: number }
  | { type: 'done'; file: string | null; count: number; checksum: string }
  | { type: 'error'; message: string };
