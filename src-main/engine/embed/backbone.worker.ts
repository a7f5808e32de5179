/**
 * Worker-thread entry of the backbone: onnxruntime-node's `run` is synchronous on the calling thread,
 * so on the main thread one batch (over a second on CPU) would freeze IPC and the UI, and stop the
 * decoders from being fed. Here it blocks only this thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Backbone } from './backbone';
import type { BackboneReply, BackboneRequest, BackboneWorkerData } from './backbone-protocol';

const port = parentPort;
if (!port) throw new Error('embed/backbone.worker.ts must run in a worker thread');
const data = workerData as BackboneWorkerData;
const send = (m: BackboneReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const backbone = new Backbone(
  data.manifest,
  data.modelPath,
  (message) => send({ type: 'log', message }),
  data.providers,
  data.int8Path,
);

port.on('message', (m: BackboneRequest) => {
  const fail = (e: unknown) =>
    send({ type: 'error', id: m.id, message: e instanceof Error ? e.message : String(e) });
  if (m.type === 'warm') {
    backbone.warm().then((runtime) => send({ type: 'warm', id: m.id, runtime }), fail);
  } else if (m.type === 'run') {
    backbone.runBatch(m.batch).then((pooled) => {
      send(
        { type: 'run', id: m.id, pooled },
        pooled.flatMap((p) => [p.S.buffer, p.M.buffer, p.G.buffer] as ArrayBuffer[]),
      );
    }, fail);
  } else if (m.type === 'close') {
    // a session that fails to release is worth a log line, not a crash of the closing worker
    void backbone
      .close()
      .catch((e: unknown) => send({ type: 'log', message: `closing the model failed: ${String(e)}` }))
      .finally(() => {
        send({ type: 'closed', id: m.id });
        port.close();
      });
  }
});
