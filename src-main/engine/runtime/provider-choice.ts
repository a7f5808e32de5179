/**
 * Which execution providers to try on this platform, best first, and which are missing their libraries.
 * Kept free of onnxruntime-node itself, so that a command that runs no model can say where it would run
 * without loading ONNX Runtime.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { envValue, forcedProvider } from '../config';

const require = createRequire(import.meta.url);

export type ProviderName = 'cuda' | 'webgpu' | 'dml' | 'coreml' | 'cpu';
export type Precision = 'fp32' | 'int8';
export const PROVIDER_NAMES: readonly ProviderName[] = ['cuda', 'webgpu', 'dml', 'coreml', 'cpu'];

export interface SkippedProvider {
  provider: ProviderName;
  reason: string;
}

/**
 * Providers worth trying here, best first, among those this ONNX Runtime build has
 * (`listSupportedBackends`, bundled or installable; null: not asked, as when no model is loaded):
 *  - Linux: CUDA where its libraries are installed, then WebGPU (Dawn on Vulkan: any vendor's GPU).
 *  - Windows: DirectML, then WebGPU (D3D12) — DirectML is the mature path for convolutions there.
 *  - macOS: CoreML, then WebGPU (Metal).
 * LIKENESS_PROVIDER=cuda|webgpu|dml|coreml|cpu forces one (still falling back to the CPU, saying why).
 */
export function preferredProviders(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
  forced: string | undefined = envValue('LIKENESS_PROVIDER'),
  backends: { name: string }[] | null = null,
): ProviderName[] {
  const one = forcedProvider({ LIKENESS_PROVIDER: forced });
  if (one) return one === 'cpu' ? ['cpu'] : [one, 'cpu'];
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
  const listed = backends && new Set(backends.map((b) => b.name));
  return [...order.filter((p) => !listed || listed.has(p)), 'cpu'];
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

/**
 * The provider a model load would start with: the first preferred one whose libraries are present, with
 * the reasons the ones before it are skipped. (It can still fail at load time and fall back to the CPU.)
 */
export function expectedProvider(providers: ProviderName[] = preferredProviders()): {
  provider: ProviderName;
  skipped: SkippedProvider[];
} {
  const skipped: SkippedProvider[] = [];
  for (const provider of providers) {
    const reason = missingProviderReason(provider);
    if (!reason) return { provider, skipped };
    skipped.push({ provider, reason });
  }
  return { provider: 'cpu', skipped };
}
