/**
 * Worker-thread entry of browser mode's engine: the library, its queries and its jobs run here, so the
 * thread that serves HTTP and WebSocket only forwards (engine-channel.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createEngineApi } from '../api/engine-api';
import { hostServices, serveEngine, type ChannelMessage, type Endpoint } from './engine-channel';

const port = parentPort;
if (!port) throw new Error('engine.worker.ts must run in a worker thread');
const endpoint: Endpoint = {
  post: (m) => port.postMessage(m),
  listen: (h) => port.on('message', (m: ChannelMessage) => h(m)),
};
const { dbDir } = workerData as { dbDir: string };
const host = await createEngineApi({ dbDir, ...hostServices(endpoint) });
serveEngine(endpoint, host);
