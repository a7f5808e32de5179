/** Messages between BackboneThread (backbone-thread.ts) and its worker (backbone.worker.ts). */
import type { Pooled } from '../head/head-types';
import type { ModelManifest } from '../model/model-store';
import type { ProviderName } from '../runtime/execution-provider';
import type { BackboneRuntime, ShapeBatch } from './backbone';

export interface BackboneWorkerData {
  manifest: ModelManifest;
  modelPath: string;
  int8Path?: string | null;
  providers?: ProviderName[];
}

export type BackboneRequest =
  | { type: 'warm'; id: number }
  /** photos of one shape, back to back (pixels transferred) */
  | { type: 'run'; id: number; batch: ShapeBatch }
  | { type: 'close'; id: number };

export type BackboneReply =
  | { type: 'warm'; id: number; runtime: BackboneRuntime }
  | { type: 'run'; id: number; pooled: Pooled[] }
  | { type: 'closed'; id: number }
  | { type: 'error'; id: number; message: string }
  | { type: 'log'; message: string };
