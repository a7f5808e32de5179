/**
 * Child process for the kill -9 test: indexes PHOTO_DIR into DB_DIR with the fake embedder and prints
 * "indexed <id>" after each photo is committed, then "summary <json>".
 * Usage: node --import tsx test/helpers/index-child.ts DB_DIR PHOTO_DIR [DELAY_MS]
 */
import { Library } from '../../src-main/engine/library';
import { projectBatch } from '../../src-main/engine/head/project';
import { FakeEmbedder } from './fake-embedder';

const [dbDir, photoDir, delay] = process.argv.slice(2);
const lib = await Library.open(dbDir, new FakeEmbedder({ delayMs: Number(delay ?? 0) }), {
  headOps: { projectBatch },
  indexer: { batchSize: 2 },
});
await lib.addFolder(photoDir);
lib.on('photo', (e) => {
  if (e.status === 'indexed') process.stdout.write(`indexed ${e.id}\n`);
});
const summary = await lib.startIndexing();
await lib.close();
process.stdout.write(`summary ${JSON.stringify(summary)}\n`);
