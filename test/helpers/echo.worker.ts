/** A worker that prints to stdout and stderr, for the log-forwarding test. */
import { parentPort, threadId } from 'node:worker_threads';

console.log(`hello from thread ${threadId}`);
console.error('a warning on stderr');
parentPort?.postMessage('printed');
