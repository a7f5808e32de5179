/** Fine-tuning in a worker thread: progress, result, cancel, crash and kill all settle cleanly. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { threadId } from 'node:worker_threads';
import { runTrainingInWorker, startTrainingWorker } from '../../src-main/engine/finetune/run-in-worker';
import { learnWhiteningHead } from '../../src-main/engine/head/whitening';
import type { HeadWeights } from '../../src-main/engine/head/head-types';
import { syntheticPooled } from './finetune-fixtures';

const { pooled, labels } = syntheticPooled(8, 12, 24);
const initHead = learnWhiteningHead(pooled, { combo: 'SG', dim: 12 });
const frozen = JSON.stringify(initHead.branches.map((b) => [Array.from(b.weight), Array.from(b.mean)]));
const untouched = (h: HeadWeights) =>
  JSON.stringify(h.branches.map((b) => [Array.from(b.weight), Array.from(b.mean)])) === frozen;

// Worker start-up (tsx compiling the entry) dominates, so the cases run side by side.
describe('fine-tune worker', { concurrency: 3 }, () => {
  test('trains in a worker thread with one progress message per epoch', async () => {
    const seen: number[] = [];
    const res = await runTrainingInWorker(
      { pooled, labels, initHead, options: { maxEpochs: 6, patience: 100 } },
      { onEpoch: (e) => seen.push(e.epoch) },
    );
    assert.equal(threadId, 0, 'the test itself runs on the main thread');
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6], 'epoch 0 is the starting head');
    assert.equal(res.metrics.epochs.length, 6);
    assert.ok(res.head.branches[0].weight instanceof Float32Array);
    assert.equal(typeof res.reason, 'string');
    assert.ok(untouched(initHead));
  });

  test('cancel mid-run rejects with AbortError and leaves the head untouched', async () => {
    const ac = new AbortController();
    const seen: number[] = [];
    await assert.rejects(
      runTrainingInWorker(
        { pooled, labels, initHead, options: { maxEpochs: 500, patience: 1000 } },
        {
          signal: ac.signal,
          onEpoch: (e) => {
            seen.push(e.epoch);
            if (e.epoch === 2) ac.abort();
          },
        },
      ),
      (e: Error) => e.name === 'AbortError',
    );
    assert.ok(seen.length >= 2 && seen.length < 500, `stopped after ${seen.length} epochs`);
    assert.ok(untouched(initHead));
  });

  for (const kind of ['throw', 'exit'] as const) {
    test(`a worker that ${kind === 'throw' ? 'crashes' : 'exits'} mid-run rejects cleanly`, async () => {
      await assert.rejects(
        runTrainingInWorker(
          { pooled, labels, initHead, options: { maxEpochs: 500, patience: 1000 } },
          { fault: { afterEpoch: 2, kind } },
        ),
        kind === 'throw' ? /worker crashed: injected fault/ : /worker stopped \(exit code 70\)/,
      );
      assert.ok(untouched(initHead));
    });
  }

  test('a killed worker rejects and leaves the head untouched', async () => {
    let handle: ReturnType<typeof startTrainingWorker> | undefined = undefined;
    handle = startTrainingWorker(
      { pooled, labels, initHead, options: { maxEpochs: 500, patience: 1000 } },
      { onEpoch: (e) => e.epoch === 2 && void handle!.kill() },
    );
    await assert.rejects(handle.result, /worker stopped/);
    assert.ok(untouched(initHead));
  });

  test("bad input fails in the worker with the trainer's message", async () => {
    await assert.rejects(
      runTrainingInWorker({ pooled: pooled.slice(0, 5), labels: [0, 0, 0, 0, 1], initHead }),
      /at least 2 albums with at least 4 photos/,
    );
  });
});
