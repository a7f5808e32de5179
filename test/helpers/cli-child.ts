/**
 * Child process for the fault suite: the real `likeness` CLI (argument parsing, Library, SQLite, files,
 * exit codes) with the fake embedder, so several can run at once on two cores. Prints "embedding" on the
 * first model call (the run holds the library by then) and, with FAKE_GATE=FILE, waits there until FILE
 * exists, so a test can act while the run is certainly in progress. Exits with the CLI's exit code.
 * Usage: node --import tsx test/helpers/cli-child.ts [CLI ARGS...]   (env FAKE_DELAY_MS, FAKE_GATE, ANN_EXACT_BELOW)
 */
import fs from 'node:fs';
import path from 'node:path';
import { main } from '../../src-main/cli/likeness';
import { projectBatch } from '../../src-main/engine/head/project';
import type { ModelInput } from '../../src-main/engine/decode/decode-image';
import { FakeEmbedder } from './fake-embedder';

class AnnouncingEmbedder extends FakeEmbedder {
  private announced = false;
  override async embed(tensors: ModelInput[]) {
    if (!this.announced) {
      this.announced = true;
      process.stdout.write('embedding\n');
      const gate = process.env.FAKE_GATE;
      if (gate) await untilExists(gate);
    }
    return super.embed(tensors);
  }
}

function untilExists(file: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = fs.watch(path.dirname(file), () => {
      if (fs.existsSync(file)) {
        watcher.close();
        resolve();
      }
    });
    if (fs.existsSync(file)) {
      watcher.close();
      resolve();
    }
  });
}

process.exitCode = await main(process.argv.slice(2), {
  createEmbedder: async () => new AnnouncingEmbedder({ delayMs: Number(process.env.FAKE_DELAY_MS ?? 0) }),
  libraryOptions: {
    headOps: { projectBatch },
    indexer: { batchSize: 2 },
    ann: { exactBelow: Number(process.env.ANN_EXACT_BELOW ?? 3000) },
  },
});
