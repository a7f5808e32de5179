/**
 * Entry of the Electron utility process that hosts the engine (bundled beside electron-main.js as
 * engine.process.js). The library, its queries and its jobs run here, so Electron's main process, which
 * serves the window, only forwards IPC (engine-in-utility.ts). The main process sends the library folder
 * and one end of a MessageChannelMain; everything after that goes over the port, as with browser mode's
 * worker thread (engine/host/engine-channel.ts). Uses no Electron module, only `process.parentPort`.
 */
import { createEngineApi } from '../engine/api/engine-api';
import { hostServices, serveEngine, type ChannelMessage, type Endpoint } from '../engine/host/engine-channel';

const parent = process.parentPort;
if (!parent) throw new Error('engine.process.ts must run in an Electron utility process');

parent.once('message', ({ data, ports: [port] }) => {
  const { dbDir } = data as { dbDir: string };
  const endpoint: Endpoint = {
    post: (m) => port.postMessage(m),
    listen: (h) => port.on('message', (e) => h(e.data as ChannelMessage)),
  };
  port.start();
  createEngineApi({ dbDir, ...hostServices(endpoint) }).then(
    (host) => serveEngine(endpoint, host),
    (error: Error) => {
      // The main process sees the exit; the log line says why.
      endpoint.post({ type: 'log', message: `the engine could not start: ${error.message}` });
      process.exit(1);
    },
  );
});
