/**
 * Worker-thread entry of fine-tuning: trains on the data it was started with, posts one message per
 * epoch and the result at the end. A 'cancel' message aborts the run (the trainer checks between steps).
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { trainHead } from './trainer';
import type { WorkerRequest, WorkerReply } from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('finetune/worker.ts must run in a worker thread');

const req = workerData as WorkerRequest;
const controller = new AbortController();
port.on('message', (m: { type?: string }) => {
  if (m?.type === 'cancel') controller.abort();
});

const send = (m: WorkerReply) => port.postMessage(m);
const t0 = Date.now();
const albums = new Set(req.input.labels).size;
send({
  type: 'log',
  message: `thread ${threadId}: training on ${req.input.pooled.length} photos in ${albums} albums`,
});

trainHead({
  ...req.input,
  signal: controller.signal,
  onEpoch: (epoch) => {
    send({ type: 'epoch', epoch });
    // fault injection for the tests: an uncaught crash or a hard exit in the middle of training
    if (req.faultAfterEpoch !== undefined && epoch.epoch >= req.faultAfterEpoch) {
      if (req.fault === 'exit') process.exit(70);
      setImmediate(() => {
        throw new Error('injected fault in the fine-tune worker');
      });
    }
  },
})
  .then((result) => {
    const { before, after, bestEpoch } = result.metrics;
    send({
      type: 'log',
      message:
        `finished in ${Date.now() - t0} ms: held-out R@1 ${before.r1.toFixed(3)} → ${after.r1.toFixed(3)} ` +
        `(best epoch ${bestEpoch}), ${result.adopted ? 'adopted' : 'not adopted'}: ${result.reason}`,
    });
    send({ type: 'done', result });
  })
  .catch((e: unknown) => {
    const err = e instanceof Error ? e : new Error(String(e));
    send({ type: err.name === 'AbortError' ? 'cancelled' : 'error', name: err.name, message: err.message });
  })
  .finally(() => port.close());
