/** Fine-tuning in a worker thread: progress, result, cancel, crash and kill all settle cleanly. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { threadId } from 'node:worker_threads';
import { headOutDim } from '../../src-main/engine/head/head-types';
import { runTrainingInWorker, startTrainingWorker } from '../../src-main/engine/finetune/run-in-worker';
import { learnWhiteningHead } from '../../src-main/engine/head/whitening';
import type { HeadWeights } from '../../src-main/engine/head/head-types';
import { syntheticPooled } from './finetune-fixtures';

const { pooled, labels } = syntheticPooled(8, 12, 24);
const initHead = learnWhiteningHead(pooled, { combo: 'SG', dim: 12 });
const snapshot = (h: HeadWeights) => h.branches.map((b) => [Array.from(b.weight), Array.from(b.mean)]);
const frozen = snapshot(initHead);

// Worker start-up (tsx compiling the entry) dominates, so the cases run side by side.
describe('fine-tune worker', { concurrency: 3 }, () => {
  test('trains in a worker thread with one progress message per epoch', async () => {
    const seen: number[] = [];
    const lines: string[] = [];
    const res = await runTrainingInWorker(
      { pooled, labels, initHead, options: { maxEpochs: 6, patience: 100 } },
      { onEpoch: (e) => seen.push(e.epoch), log: (l) => lines.push(l) },
    );
    // the trainer says which thread it ran on: not this one
    const worker = Number(/^thread (\d+): training on 96 photos in 8 albums$/.exec(lines[0] ?? '')?.[1]);
    assert.ok(
      Number.isInteger(worker) && worker !== threadId,
      `trained on thread ${worker}, test on ${threadId}`,
    );
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6], 'epoch 0 is the starting head');
    assert.equal(res.metrics.epochs.length, 6);
    assert.ok(res.head.branches[0].weight instanceof Float32Array);
    assert.equal(headOutDim(res.head), headOutDim(initHead));
    assert.notDeepEqual(snapshot(res.head), frozen, 'six epochs changed the head');
    // the caller's head was copied to the worker, not moved: still whole and as it was
    assert.deepEqual(snapshot(initHead), frozen);
  });

  test('cancel mid-run stops the worker and rejects with AbortError', async () => {
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
  });

  for (const kind of ['throw', 'exit'] as const) {
    test(`a worker that ${kind === 'throw' ? 'crashes' : 'exits'} mid-run rejects cleanly`, async () => {
      const seen: number[] = [];
      await assert.rejects(
        runTrainingInWorker(
          { pooled, labels, initHead, options: { maxEpochs: 500, patience: 1000 } },
          { fault: { afterEpoch: 2, kind }, onEpoch: (e) => seen.push(e.epoch) },
        ),
        kind === 'throw' ? /worker crashed: injected fault/ : /worker stopped \(exit code 70\)/,
      );
      // the last epoch's message may be lost with the crash; the run must have started and stopped near it
      // (epoch 0 is the starting head's figure, sent before training; later epochs' messages may be lost)
      assert.equal(seen[0], 0, 'it started before the fault');
      assert.ok(seen.length < 10, `and stopped at the fault (${seen.length} epochs of 500)`);
    });
  }

  test('a killed worker rejects', async () => {
    let handle: ReturnType<typeof startTrainingWorker> | undefined = undefined;
    handle = startTrainingWorker(
      { pooled, labels, initHead, options: { maxEpochs: 500, patience: 1000 } },
      { onEpoch: (e) => e.epoch === 2 && void handle!.kill() },
    );
    await assert.rejects(handle.result, /worker stopped/);
  });

  test("bad input fails in the worker with the trainer's message", async () => {
    await assert.rejects(
      runTrainingInWorker({ pooled: pooled.slice(0, 5), labels: [0, 0, 0, 0, 1], initHead }),
      /at least 2 albums with at least 4 photos/,
    );
  });
});
