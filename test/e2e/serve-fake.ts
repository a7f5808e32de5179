/**
 * Browser mode on the fake engine, for developing the renderer without the real one:
 *   npx tsx test/e2e/serve-fake.ts [--port N] [--photos N] [--preload N]
 * Serves dist/renderer (build it first: npm run build:renderer) and prints the address to open.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../src-main/server/http-server';
import { createFakeEngine } from './fake-engine';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`serve-fake: ${name} needs a whole number`);
  return value;
}

const engine = createFakeEngine({ photosPerFolder: flag('--photos', 300), preload: flag('--preload', 0) });
const server = await startServer({
  api: engine.api,
  imageSource: engine.images,
  events: engine.events,
  rendererDir: path.join(root, 'dist', 'renderer'),
  port: flag('--port', 0),
});
console.log(`Likeness (fake engine) on ${server.url}?token=${server.token}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    void server
      .close()
      .then(() => engine.close())
      .then(() => process.exit(0));
  });
