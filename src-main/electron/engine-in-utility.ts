/**
 * The app's engine in an Electron utility process (engine.process.ts), so that nothing slow (SQLite,
 * index builds, head re-projection) runs on the main process, which serves the window and IPC. The main
 * side is the same as browser mode's (engine/host/remote-engine.ts): the forwarded contract over a
 * MessagePortMain, and thumbnails and photos read on this side, never queued behind the engine.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannelMain, utilityProcess } from 'electron';
import type { EngineHost } from '../engine/api/engine-api';
import type { ChannelMessage } from '../engine/host/engine-channel';
import { hostRemoteEngine, type EngineWorkerOptions } from '../engine/host/remote-engine';
import { resolveModelsDir } from '../engine/model/models-dir';

/** Bundled beside electron-main.js (scripts/build-main.ts bundles every *.process.ts). */
const ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'engine.process.js');

export function createEngineInUtilityProcess(options: EngineWorkerOptions): Promise<EngineHost> {
  const child = utilityProcess.fork(ENTRY, [], {
    serviceName: 'Likeness engine',
    stdio: 'inherit',
    env: {
      // UV_THREADPOOL_SIZE (set by electron-boot.cjs) sizes the child's libuv pool for decoding too.
      ...process.env,
      // The models folder as the main process resolves it: process.resourcesPath is the main process's
      // to know (a packaged app keeps the models there), so the child is told rather than left to guess.
      LIKENESS_MODELS_DIR: resolveModelsDir(),
    },
  });
  const { port1, port2 } = new MessageChannelMain();
  child.postMessage({ dbDir: path.resolve(options.dbDir) }, [port2]);
  port1.start();
  return hostRemoteEngine(
    {
      ...options,
      endpoint: {
        post: (m) => port1.postMessage(m),
        listen: (h) => port1.on('message', (e) => h(e.data as ChannelMessage)),
      },
      stop: async () => {
        port1.close();
        child.kill();
      },
    },
    (onLost) => child.on('exit', (code) => onLost(`the engine process exited (code ${code})`)),
  );
}
