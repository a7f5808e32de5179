/**
 * Every LIKENESS_* environment variable, declared and read here and nowhere else; README.md's
 * "Configuration" table lists the same names (a unit test keeps the two, and the code, in step).
 * Read on each call rather than once at start-up, so a test or a shell can set one per run.
 */
import type { ProviderName } from './runtime/provider-choice';

/** name → what it does (the README's words). */
export const ENV_VARS = {
  LIKENESS_DB: 'the library folder (database, index, thumbnails, logs); `--db DIR` overrides it',
  LIKENESS_MODELS_DIR: 'where the built model is (default: `resources/models` above the running code)',
  LIKENESS_PROVIDER: 'force an ONNX Runtime execution provider: `cpu`, `cuda`, `webgpu`, `dml` or `coreml`',
  LIKENESS_PRECISION: 'the CPU backbone: `int8` (default, where it was built) or `fp32`',
  LIKENESS_RENDERER_DIR: "the built UI the desktop window loads (default: beside the app's main script)",
  LIKENESS_LOG_LEVEL: 'what the log file keeps: `debug`, `info` (default), `warn` or `error`',
  LIKENESS_SLOW_MS: 'operations on the serving thread slower than this are logged (default 40)',
  LIKENESS_CHROMIUM: 'tests: the Chromium the e2e tests drive (default `/usr/bin/chromium`)',
  LIKENESS_E2E_REAL: 'tests: `1` the real engine, `0` the fake (default: real when the data set is there)',
  LIKENESS_E2E_GROUPS: 'tests: Holidays ground-truth groups copied into the e2e folder (default 30)',
  LIKENESS_E2E_PHOTOS: 'tests: a folder of your own photos for the e2e run instead of Holidays',
  LIKENESS_REAL_EMBEDDER: 'tests: `1` runs the bad-input test through the real decoder and model',
} as const;

export type EnvName = keyof typeof ENV_VARS;
export type Env = Readonly<Record<string, string | undefined>>;

/** The variable's value; unset and empty are the same (an empty value never means anything). */
export function envValue(name: EnvName, env: Env = process.env): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

const PROVIDERS: readonly ProviderName[] = ['cuda', 'webgpu', 'dml', 'coreml', 'cpu'];

/** LIKENESS_PROVIDER, checked: a misspelt provider is an error, not a silent fallback. */
export function forcedProvider(env: Env = process.env): ProviderName | undefined {
  const v = envValue('LIKENESS_PROVIDER', env);
  if (v === undefined) return undefined;
  if (!PROVIDERS.includes(v as ProviderName))
    throw new Error(`LIKENESS_PROVIDER=${v} is not one of ${PROVIDERS.join(', ')}`);
  return v as ProviderName;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function logLevel(env: Env = process.env): LogLevel {
  const v = envValue('LIKENESS_LOG_LEVEL', env);
  if (v === undefined) return 'info';
  if (!LOG_LEVELS.includes(v as LogLevel))
    throw new Error(`LIKENESS_LOG_LEVEL=${v} is not one of ${LOG_LEVELS.join(', ')}`);
  return v as LogLevel;
}

/** The slow-operation threshold: Signal's 40 ms, which is where a UI starts to feel it. */
export function slowOperationMs(env: Env = process.env): number {
  const v = envValue('LIKENESS_SLOW_MS', env);
  if (v === undefined) return 40;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`LIKENESS_SLOW_MS=${v} is not a number of milliseconds`);
  return n;
}

/** Sets a variable for this process and the workers it starts later (benchmarks choose a variant so). */
export function setEnvValue(name: EnvName, value: string): void {
  process.env[name] = value;
}

/** A whole number ≥ `min`, or the default when unset. */
export function envInteger(name: EnvName, fallback: number, min = 0, env: Env = process.env): number {
  const v = envValue(name, env);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number ≥ ${min} (got ${v})`);
  return n;
}
