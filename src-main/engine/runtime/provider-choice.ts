/**
 * Which execution providers to try on this platform, best first, and which are missing their libraries.
 * Kept free of onnxruntime-node itself, so that a command that runs no model can say where it would run
 * without loading ONNX Runtime.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { forcedProvider } from '../config';

const require = createRequire(import.meta.url);

export type ProviderName = 'cuda' | 'dml' | 'coreml' | 'cpu';

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

/**
 * The provider a model load would start with: the first preferred one whose libraries are present, with
 * the reasons the ones before it are skipped. (It can still fail at load time and fall back to the CPU.)
 */
export function expectedProvider(providers: ProviderName[] = preferredProviders()): {
  provider: ProviderName;
  skipped: { provider: ProviderName; reason: string }[];
} {
  const skipped: { provider: ProviderName; reason: string }[] = [];
  for (const provider of providers) {
    const reason = missingProviderReason(provider);
    if (!reason) return { provider, skipped };
    skipped.push({ provider, reason });
  }
  return { provider: 'cpu', skipped };
}
