/**
 * Execution-provider choice, kept apart from the models (as immich's ML service does): which
 * accelerator to try on this platform, in order, and a session factory that falls back to the
 * next one — onnxruntime-node throws, rather than falling back, when a provider is missing.
 */
import os from 'node:os';
import { createRequire } from 'node:module';
import type * as ort from 'onnxruntime-node';
import { loadOrt } from './lazy-modules';
import {
  missingProviderReason,
  preferredProviders,
  type Precision,
  type ProviderName,
  type SkippedProvider,
} from './provider-choice';

const require = createRequire(import.meta.url);

// The choice itself (no ONNX Runtime needed) is provider-choice.ts; callers reach both through here.
export * from './provider-choice';

export interface ProviderChoice {
  session: ort.InferenceSession;
  provider: ProviderName;
  /** which model file the session runs (the CPU runs the int8 copy where there is one) */
  precision: Precision;
  /** why earlier providers were skipped, for the log and the status panel */
  skipped: SkippedProvider[];
}

/** What the session factory needs from ONNX Runtime (tests pass a fake). */
export interface OrtRuntime {
  listSupportedBackends(): { name: string; bundled: boolean }[];
  /** why a provider cannot work here, checked before asking ORT (missing libraries), or null */
  unavailable(provider: ProviderName): string | null;
  create(
    model: string | Uint8Array,
    options: ort.InferenceSession.SessionOptions,
  ): Promise<ort.InferenceSession>;
}

// ONNX Runtime loads on first use (a session request), not when this module is imported.
export const ortRuntime: OrtRuntime = {
  listSupportedBackends: () => (require('onnxruntime-node') as typeof ort).listSupportedBackends(),
  unavailable: (provider) => missingProviderReason(provider),
  create: async (model, options) => {
    const { InferenceSession } = await loadOrt();
    return typeof model === 'string'
      ? InferenceSession.create(model, options)
      : InferenceSession.create(model, options);
  },
};

/** Photos per backbone run, by provider (measured: WebGPU on an H200 did 459–503 photos/s at 8, 329 at 32, 266 at 64). */
export const BATCH_SIZE: Record<ProviderName, number> = { webgpu: 8, cuda: 8, dml: 8, coreml: 8, cpu: 8 };

/** Threads for one inference: the machine's cores (ORT's own pool; libuv's stays free for decoding). */
export function intraOpThreads(): number {
  return Math.max(1, Math.min(os.availableParallelism(), 16));
}

/** The useful line of an ORT error: "Failed to get a WebGPU adapter: …", without the source location. */
export function errorReason(e: unknown): string {
  const first = ((e as Error)?.message ?? String(e)).split('\n')[0];
  const m = / was false\. (.*)$/.exec(first);
  return (m ? m[1] : first.replace(/^\/\S+:\d+ /, '')).trim();
}

/** A model per provider: the CPU may run a different file (the int8 copy) than a GPU. */
export type ModelFor = (provider: ProviderName) => { model: string | Uint8Array; precision: Precision };

export async function createSessionWithFallback(
  model: string | Uint8Array | ModelFor,
  providers: ProviderName[] | undefined = undefined,
  log: (msg: string) => void = () => {},
  runtime: OrtRuntime = ortRuntime,
): Promise<ProviderChoice> {
  providers ??= preferredProviders(undefined, undefined, undefined, runtime.listSupportedBackends());
  const modelFor: ModelFor = typeof model === 'function' ? model : () => ({ model, precision: 'fp32' });
  const skipped: ProviderChoice['skipped'] = [];
  for (const provider of providers) {
    const missing = runtime.unavailable(provider);
    if (missing) {
      skipped.push({ provider, reason: missing });
      log(`ONNX Runtime: ${provider} skipped (${missing})`);
      continue;
    }
    try {
      const options: ort.InferenceSession.SessionOptions = {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: intraOpThreads(),
        interOpNumThreads: 1,
        executionMode: 'sequential',
        // ORT's threads spin between kernels by default, which takes the cores from the photo decoders
        // that run beside inference while indexing.
        extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      };
      const { model: file, precision } = modelFor(provider);
      const session = await runtime.create(file, options);
      return { session, provider, precision, skipped };
    } catch (e) {
      const reason = errorReason(e);
      skipped.push({ provider, reason });
      log(`ONNX Runtime: ${provider} unavailable (${reason}); trying the next provider`);
    }
  }
  throw new Error(
    `No ONNX Runtime execution provider could load the model: ${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')}`,
  );
}
