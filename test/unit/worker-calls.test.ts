/**
 * WorkerCalls, on a real worker thread: replies are matched to calls by id (in any order), an error reply
 * rejects its call, and a worker that dies fails the calls in flight with the reason while the next call
 * starts a new worker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { WorkerCalls } from '../../src-main/engine/runtime/worker-calls';

// Answers {wait, value} after `wait` ms; {fail} with an error reply; {exit} by exiting; logs once at start.
const ECHO = `
const { parentPort } = require('node:worker_threads');
parentPort.postMessage({ log: 'started' });
parentPort.on('message', (m) => {
  if (m.exit) process.exit(m.exit);
  if (m.fail) return parentPort.postMessage({ id: m.id, error: m.fail });
  setTimeout(() => parentPort.postMessage({ id: m.id, value: m.value }), m.wait);
});`;

type Reply = { id: number; value?: number; error?: string };

function echo() {
  const logs: unknown[] = [];
  let spawned = 0;
  const calls = new WorkerCalls<Reply>({
    spawn: () => {
      spawned++;
      return new Worker(ECHO, { eval: true });
    },
    name: 'the echo worker',
    errorOf: (m) => m.error ?? null,
    other: (m) => logs.push(m),
  });
  return { calls, logs, spawned: () => spawned };
}

test('replies reach their own calls, in whatever order they come; an error reply rejects', async () => {
  const { calls, logs, spawned } = echo();
  try {
    const slow = calls.call({ wait: 60, value: 1 });
    const fast = calls.call({ wait: 0, value: 2 });
    assert.equal((await fast).value, 2);
    assert.equal((await slow).value, 1);
    await assert.rejects(calls.call({ fail: 'no such photo' }), /^Error: no such photo$/);
    assert.deepEqual(logs, [{ log: 'started' }], 'a message without an id goes to other()');
    assert.equal(spawned(), 1, 'one worker for all calls');
  } finally {
    await calls.terminate();
  }
});

test('a worker that dies fails the calls in flight with the reason; the next call starts another', async () => {
  const { calls, spawned } = echo();
  try {
    const pending = calls.call({ wait: 10_000, value: 1 });
    const exit = calls.call({ exit: 7 });
    await assert.rejects(pending, /the echo worker stopped: exit code 7/);
    await assert.rejects(exit, /the echo worker stopped: exit code 7/);
    assert.equal(calls.started, false);
    assert.equal((await calls.call({ wait: 0, value: 3 })).value, 3);
    assert.equal(spawned(), 2);
  } finally {
    await calls.terminate();
  }
});

test('terminating fails the calls in flight instead of leaving them unsettled', async () => {
  const { calls } = echo();
  const pending = assert.rejects(calls.call({ wait: 10_000, value: 1 }), /the echo worker was closed/);
  await calls.terminate();
  await pending;
});
