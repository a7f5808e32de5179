/**
 * Starts a worker thread on a sibling module of the caller. Bundled (dist/main), the entry is the
 * sibling `.js` that build-main.ts emits for every `worker.ts` / `*.worker.ts`. From source under tsx,
 * Node 20 does not apply `--import tsx` hooks to a worker's entry, so the worker registers tsx itself
 * and then imports the TypeScript entry.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * `stem` is relative to `callerUrl` without extension, e.g. './backbone.worker'. With `output`, what the
 * worker prints (stdout and stderr, e.g. a library's warnings) reaches it line by line, for the log.
 */
export function spawnModuleWorker(
  callerUrl: string,
  stem: string,
  workerData: unknown,
  output?: (line: string) => void,
): Worker {
  const options: WorkerOptions = { workerData, stdout: output !== undefined, stderr: output !== undefined };
  let worker: Worker;
  if (callerUrl.endsWith('.ts')) {
    const api = import.meta.resolve('tsx/esm/api');
    const entry = new URL(`${stem}.ts`, callerUrl).href;
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    worker = new Worker(boot, { ...options, eval: true });
  } else {
    worker = new Worker(new URL(`${stem}.js`, callerUrl), options);
  }
  if (output) for (const stream of [worker.stdout, worker.stderr]) forwardLines(stream, output);
  return worker;
}

/** Also used for a worker started on an explicit URL. */
export function forwardLines(stream: Readable, output: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
    if (line.trim()) output(line);
  });
}
