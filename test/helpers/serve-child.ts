/**
 * Child process for the fault suite: `likeness serve` on a real engine (real SQLite, HNSW, files, trash)
 * with the fake embedder. Prints "url <url> <token>", then one line per engine event: "indexed <id>",
 * "done <state>", "warning <text>".
 * Usage: node --import tsx test/helpers/serve-child.ts DB_DIR [EMBED_DELAY_MS]
 */
import { runServe } from '../../src-main/cli/serve';
import { createEngineApi } from '../../src-main/engine/api/engine-api';
import { projectBatch } from '../../src-main/engine/head/project';
import { FakeEmbedder } from './fake-embedder';

const [dbDir, delay] = process.argv.slice(2);
const out = (line: string) => process.stdout.write(`${line}\n`);
const served = await runServe(['--port', '0', '--db', dbDir], {
  out: () => undefined,
  createEngine: (options) =>
    createEngineApi({
      ...options,
      log: (m) => out(`warning ${m.replace(/\n/g, ' ')}`),
      createEmbedder: async () => new FakeEmbedder({ delayMs: Number(delay ?? 0) }),
      library: { watch: false, headOps: { projectBatch }, indexer: { batchSize: 2, decodeConcurrency: 2 } },
    }),
});
served.engine.events.subscribe((e) => {
  if (e.event === 'index.done') out(`done ${e.data.state}`);
  if (e.event === 'index.progress' && e.data.current) out(`indexed ${e.data.done}`);
});
out(`url ${served.server.url} ${served.server.token}`);
