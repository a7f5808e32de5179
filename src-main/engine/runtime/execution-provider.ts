/**
 * Execution-provider choice, kept apart from the models (as immich's ML service does): which
 * accelerator to try on this platform, in order, and a session factory that falls back to the
 * next one — onnxruntime-node throws, rather than falling back, when a provider is missing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import { forcedProvider } from '../config';

const require = createRequire(import.meta.url);

export type ProviderName = 'cuda' | 'dml' | 'coreml' | 'cpu';

export interface ProviderChoice {
  session: ort.InferenceSession;
  provider: ProviderName;
  /** why earlier providers were skipped, for the log and the status panel */
  skipped: { provider: ProviderName; reason: string }[];
}

/** Providers worth trying here, best first. LIKENESS_PROVIDER=cpu (etc.) forces one. */
export function preferredProviders(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
  forced: ProviderName | undefined = forcedProvider(),
): ProviderName[] {
  if (forced) return forced === 'cpu' ? ['cpu'] : [forced, 'cpu'];
  if (platform === 'linux' && arch === 'x64') return ['cuda', 'cpu'];
  if (platform === 'win32') return ['dml', 'cpu'];
  if (platform === 'darwin') return ['coreml', 'cpu'];
  return ['cpu'];
}

/** Threads for one inference: the machine's cores (ORT's own pool; libuv's stays free for decoding). */
export function intraOpThreads(): number {
  return Math.max(1, Math.min(os.availableParallelism(), 16));
}

/**
 * onnxruntime-node ships the CUDA provider as separate libraries that its install script fetches
 * online (skipped offline; `npm run fetch:cuda` adds them). Asking for CUDA without them fails
 * noisily inside ORT, so check for the files first and skip with a clear reason.
 */
export function missingProviderReason(provider: ProviderName): string | null {
  if (provider !== 'cuda') return null;
  try {
    const dir = path.join(
      path.dirname(require.resolve('onnxruntime-node')),
      '..',
      'bin',
      'napi-v6',
      'linux',
      'x64',
    );
    const libs = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
    const missing = libs.filter((l) => !fs.existsSync(path.join(dir, l)));
    return missing.length
      ? `CUDA provider libraries not installed (${missing.join(', ')}); run \`npm run fetch:cuda\``
      : null;
  } catch (e) {
    return (e as Error).message;
  }
}

export async function createSessionWithFallback(
  model: string | Uint8Array,
  providers: ProviderName[] = preferredProviders(),
  log: (msg: string) => void = () => {},
): Promise<ProviderChoice> {
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
          ? await ort.InferenceSession.create(model, options)
          : await ort.InferenceSession.create(model, options);
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
