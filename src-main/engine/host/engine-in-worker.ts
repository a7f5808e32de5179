/** Browser mode's engine in a worker thread (engine.worker.ts); the serving side is remote-engine.ts. */
import path from 'node:path';
import type { EngineHost } from '../api/engine-api';
import { spawnModuleWorker } from '../runtime/module-worker';
import type { ChannelMessage } from './engine-channel';
import { hostRemoteEngine, type EngineWorkerOptions } from './remote-engine';

export type { EngineWorkerOptions } from './remote-engine';

export function createEngineInWorker(options: EngineWorkerOptions): Promise<EngineHost> {
  const log = options.log ?? ((m: string) => process.stderr.write(`likeness: ${m}\n`));
  const worker = spawnModuleWorker(import.meta.url, './engine.worker', {
    dbDir: path.resolve(options.dbDir),
  });
  let ready = false;
  const host = hostRemoteEngine(
    {
      ...options,
      log,
      endpoint: {
        post: (m) => worker.postMessage(m),
        listen: (h) => worker.on('message', (m: ChannelMessage) => h(m)),
      },
      stop: async () => void (await worker.terminate()),
    },
    (onLost) => {
      worker.on('error', (e) => {
        if (ready) log(`the engine worker crashed: ${e.message}`);
        onLost(e.message);
      });
      worker.on('exit', (code) => onLost(`the engine worker exited (code ${code})`));
    },
  );
  void host.then(() => (ready = true)).catch(() => undefined);
  return host;
}
