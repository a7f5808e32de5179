/**
 * What the library pipeline needs from the model: decode a photo, and run the backbone on a
 * batch of decoded photos. The default implementation is default-embedder.ts; tests inject fakes.
 */
import type { Box } from '../decode/box';
import type { DecodedPhoto, ModelInput } from '../decode/decode-image';
import type { Pooled } from '../head/head-types';
import type { AcceleratorInfo } from '../runtime/accelerator-info';

export interface DecodeRequest {
  /** crop of the photo, in 0..1 of its oriented width/height */
  region?: Box;
  /** skip the thumbnail (queries by outside images need none) */
  thumbnail?: boolean;
  /** a name for error messages when decoding bytes */
  label?: string;
}

export interface PhotoEmbedder {
  /** changes when the backbone changes: stored pooled vectors are per model */
  readonly modelId: string;
  /** length of each pooled vector */
  readonly channels: number;
  /** the execution provider in use (cuda, webgpu, dml, coreml, cpu); null until the model is loaded */
  readonly provider: string | null;
  /** provider details (precision, skipped providers and why, batch size), once the model is loaded */
  readonly accelerator?: AcceleratorInfo;
  /** human-readable model description for the status panel */
  readonly description: { name: string; tap: string; inputSize: number };
  /**
   * Loads the model now (it is otherwise loaded by the first `embed`), resolving to the provider; throws
   * if the model cannot be used (missing, modified, no execution provider). Optional for test fakes.
   */
  load?(): Promise<string>;
  /** throws DecodeError (a clear message naming the file and the cause) */
  decode(source: string | Buffer, request?: DecodeRequest): Promise<DecodedPhoto>;
  /** batched backbone: one Pooled per decoded photo, in order (inputs may differ in shape) */
  embed(tensors: ModelInput[]): Promise<Pooled[]>;
  close?(): Promise<void>;
}
