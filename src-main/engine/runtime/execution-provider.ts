/**
 * Execution-provider choice, kept apart from the models (as immich's ML service does): which
 * accelerator to try on this platform, in order, and a session factory that falls back to the
 * next one — onnxruntime-node throws, rather than falling back, when a provider is missing.
 */
import os from 'node:os';
import type * as ort from 'onnxruntime-node';
import { loadOrt } from './lazy-modules';
import { missingProviderReason, preferredProviders, type ProviderName } from './provider-choice';

export {
  expectedProvider,
  missingProviderReason,
  preferredProviders,
  type ProviderName,
} from './provider-choice';

export interface ProviderChoice {
  session: ort.InferenceSession;
  provider: ProviderName;
  /** why earlier providers were skipped, for the log and the status panel */
  skipped: { provider: ProviderName; reason: string }[];
}

/** Threads for one inference: the machine's cores (ORT's own pool; libuv's stays free for decoding). */
export function intraOpThreads(): number {
  return Math.max(1, Math.min(os.availableParallelism(), 16));
}

export async function createSessionWithFallback(
  model: string | Uint8Array,
  providers: ProviderName[] = preferredProviders(),
  log: (msg: string) => void = () => {},
): Promise<ProviderChoice> {
  const { InferenceSession } = await loadOrt();
  const skipped: ProviderChoice['skipped'] = [];
  for (const provider of providers) {
    const missing = missingProviderReason(provider);
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
      };
      const session =
        typeof model === 'string'
          ? await InferenceSession.create(model, options)
          : await InferenceSession.create(model, options);
      return { session, provider, skipped };
    } catch (e) {
      const reason = ((e as Error).message ?? String(e)).split('\n')[0];
      skipped.push({ provider, reason });
      log(`ONNX Runtime: ${provider} unavailable (${reason}); trying the next provider`);
    }
  }
  throw new Error(
    `No ONNX Runtime execution provider could load the model: ${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')}`,
  );
}
