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

const require = createRequire(import.meta.url);

export type ProviderName = 'cuda' | 'webgpu' | 'dml' | 'coreml' | 'cpu';
export type Precision = 'fp32' | 'int8';

const KNOWN: ProviderName[] = ['cuda', 'webgpu', 'dml', 'coreml', 'cpu'];

export interface SkippedProvider {
  provider: ProviderName;
  reason: string;
}

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

export const ortRuntime: OrtRuntime = {
  listSupportedBackends: () => ort.listSupportedBackends(),
  unavailable: (provider) => missingProviderReason(provider),
  create: (model, options) =>
    typeof model === 'string'
      ? ort.InferenceSession.create(model, options)
      : ort.InferenceSession.create(model, options),
};

/**
 * Providers worth trying here, best first, among those this ONNX Runtime build has
 * (`listSupportedBackends`, bundled or installable): a GPU first, the CPU last.
 *  - Linux: CUDA where its libraries are installed, then WebGPU (Dawn on Vulkan: any vendor's GPU).
 *  - Windows: DirectML, then WebGPU (D3D12) — DirectML is the mature path for convolutions there.
 *  - macOS: CoreML, then WebGPU (Metal).
 * LIKENESS_PROVIDER=cuda|webgpu|dml|coreml|cpu forces one (still falling back to the CPU, saying why).
 */
export function preferredProviders(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
  forced: string | undefined = process.env.LIKENESS_PROVIDER,
  backends: { name: string }[] = ortRuntime.listSupportedBackends(),
): ProviderName[] {
  if (forced) {
    if (!KNOWN.includes(forced as ProviderName)) {
      throw new Error(`LIKENESS_PROVIDER=${forced} is not one of ${KNOWN.join(', ')}`);
    }
    return forced === 'cpu' ? ['cpu'] : [forced as ProviderName, 'cpu'];
  }
  const order: ProviderName[] =
    platform === 'linux'
      ? arch === 'x64'
        ? ['cuda', 'webgpu']
        : ['webgpu']
      : platform === 'win32'
        ? ['dml', 'webgpu']
        : platform === 'darwin'
          ? ['coreml', 'webgpu']
          : [];
  const listed = new Set(backends.map((b) => b.name));
  return [...order.filter((p) => listed.has(p)), 'cpu'];
}

/** Photos per backbone run, by provider (measured: WebGPU on an H200 did 459–503 photos/s at 8, 329 at 32, 266 at 64). */
export const BATCH_SIZE: Record<ProviderName, number> = { webgpu: 8, cuda: 8, dml: 8, coreml: 8, cpu: 8 };

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
  if (provider === 'webgpu') return missingVulkanReason();
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

/**
 * On Linux, Dawn reaches the GPU through the system's Vulkan loader; without it the WebGPU provider
 * cannot find an adapter (and Dawn prints a warning), so say what to install instead.
 */
function missingVulkanReason(
  platform: NodeJS.Platform = process.platform,
  dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/lib/x86_64-linux-gnu',
    '/lib64',
  ],
): string | null {
  if (platform !== 'linux') return null;
  if (dirs.some((d) => fs.existsSync(path.join(d, 'libvulkan.so.1')))) return null;
  return 'no Vulkan loader (libvulkan.so.1) installed, so WebGPU has no adapter; install libvulkan1 and the GPU driver';
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
  providers: ProviderName[] = preferredProviders(),
  log: (msg: string) => void = () => {},
  runtime: OrtRuntime = ortRuntime,
): Promise<ProviderChoice> {
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
