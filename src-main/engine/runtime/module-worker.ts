/**
 * Starts a worker thread on a sibling module of the caller. Bundled (dist/main), the entry is the
 * sibling `.js` that build-main.ts emits for every `worker.ts` / `*.worker.ts`. From source under tsx,
 * Node 20 does not apply `--import tsx` hooks to a worker's entry, so the worker registers tsx itself
 * and then imports the TypeScript entry.
 */
import { Worker } from 'node:worker_threads';

/** `stem` is relative to `callerUrl` without extension, e.g. './backbone.worker'. */
export function spawnModuleWorker(callerUrl: string, stem: string, workerData: unknown): Worker {
  if (callerUrl.endsWith('.ts')) {
    const api = import.meta.resolve('tsx/esm/api');
    const entry = new URL(`${stem}.ts`, callerUrl).href;
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(boot, { eval: true, workerData });
  }
  return new Worker(new URL(`${stem}.js`, callerUrl), { workerData });
}
