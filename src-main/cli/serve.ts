/**
 * `likeness serve [--port N] [--db DIR] [--renderer DIR]`: browser mode. Opens the library, serves the API and
 * the built renderer on 127.0.0.1, prints `Likeness on http://127.0.0.1:PORT/?token=TOKEN`, and shuts the
 * engine down cleanly (indexing resumes next time) on Ctrl-C.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unavailableHostMethods, type LikenessApi } from '../engine/api/contract';
import type { EngineApiOptions, EngineHost } from '../engine/api/engine-api';
import { createEngineInWorker } from '../engine/host/engine-in-worker';
import { defaultLibraryDir } from '../engine/api/library-dir';
import { startServer, type RunningServer } from '../server/http-server';
import { moveToTrash } from '../server/os-trash';

export interface ServeArgs {
  port: number;
  dbDir: string;
  rendererDir: string;
}

export function parseServeArgs(argv: string[], env = process.env): ServeArgs {
  const args: ServeArgs = {
    port: 0,
    dbDir: defaultLibraryDir(env),
    rendererDir: path.join(appRoot(), 'dist', 'renderer'),
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`likeness serve: ${flag} needs a value`);
      return v;
    };
    if (flag === '--port') {
      const port = Number(value());
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new Error(`likeness serve: --port must be 0..65535`);
      args.port = port;
    } else if (flag === '--db') args.dbDir = path.resolve(value());
    else if (flag === '--renderer') args.rendererDir = path.resolve(value());
    else
      throw new Error(`likeness serve: unknown option ${flag} (usage: likeness serve [--port N] [--db DIR])`);
  }
  return args;
}

/** The directory holding package.json, whether this runs from src-main/cli (tsx) or dist/main (bundle). */
export function appRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return process.cwd();
  }
}

export interface Served {
  server: RunningServer;
  engine: EngineHost;
  /** closes the server, then the engine (jobs stop at a resumable point) */
  stop(): Promise<void>;
}

export async function runServe(
  argv: string[],
  deps: {
    createEngine?: (options: EngineApiOptions) => Promise<EngineHost>;
    out?: (line: string) => void;
  } = {},
): Promise<Served> {
  const args = parseServeArgs(argv);
  // The engine runs in a worker thread: this one serves HTTP and WebSocket and only forwards.
  const engine = await (deps.createEngine ?? createEngineInWorker)({ dbDir: args.dbDir, trash: moveToTrash });
  const api: LikenessApi = { ...engine.api, ...unavailableHostMethods('browser') };
  let server: RunningServer;
  try {
    server = await startServer({
      api,
      events: engine.events,
      imageSource: engine.images,
      rendererDir: args.rendererDir,
      port: args.port,
    });
  } catch (error) {
    await engine.close();
    const busy = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
    throw new Error(
      busy ? `likeness serve: port ${args.port} is in use (try --port 0)` : (error as Error).message,
    );
  }
  (deps.out ?? ((line) => process.stdout.write(`${line}\n`)))(
    `Likeness on ${server.url}?token=${server.token}`,
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await server.close();
      await engine.close();
    })());
  const onSignal = () => {
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`likeness serve: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { server, engine, stop };
}
