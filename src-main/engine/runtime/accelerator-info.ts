/**
 * Where the backbone runs: the ONNX Runtime provider it got, and why better ones were skipped (the
 * contract's `AcceleratorInfo` is this type). Dependency-free: the contract and the renderer import it.
 */
export interface AcceleratorInfo {
  provider: string;
  /** fp32, or int8 (the quantised copy the CPU runs) */
  precision: 'fp32' | 'int8';
  /** the GPU adapter, where the runtime reports it (onnxruntime-node 1.30 does not) */
  adapter: string | null;
  skipped: { provider: string; reason: string }[];
  /** photos per backbone run on this provider */
  batchSize: number;
}
