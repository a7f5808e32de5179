/**
 * The `likeness` command line: index folders and query the library from a terminal.
 *
 *   likeness index DIR... [--db DIR] [--json]
 *   likeness similar FILE [-k N] [--json] [--db DIR]
 *   likeness search IMAGE [-k N] [--json] [--db DIR]
 *   likeness duplicates [--threshold T] [--json] [--db DIR]
 *   likeness status [--json] [--db DIR]
 *   likeness recover [--db DIR]
 *   likeness serve [--port N] [--db DIR]
 *
 * It is a client of the engine's API like the app's windows: every command calls the contract's methods
 * (validated by `dispatch`, as the transports do) and `--json` prints the contract's shapes. The model
 * loads only for the commands that run it (index, search), so the others answer at once.
 *
 * Exit codes: 0 ok, 1 error, 2 usage, 130 cancelled (Ctrl-C).
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  ApiError,
  describeAccelerator,
  dispatch,
  MAX_QUERY_IMAGE_BYTES,
  unavailableHostMethods,
  type ArgsOf,
  type EngineApi,
  type EventName,
  type EventPayloads,
  type LikenessApi,
  type MethodName,
  type PhotoDetails,
  type ResultOf,
  type Status,
} from '../engine/api/contract';
import {
  createEngineApi,
  INDEXING_STOPPED,
  whenIndexReady,
  type EngineApiOptions,
  type EngineHost,
} from '../engine/api/engine-api';
import { defaultLibraryDir } from '../engine/api/library-dir';
import type { EmbedderOptions } from '../engine/embed/default-embedder';
import type { PhotoEmbedder } from '../engine/embed/photo-embedder';
import type { LibraryOptions } from '../engine/library';
import { expectedProvider } from '../engine/runtime/provider-choice';
import { recoverLibrary } from '../engine/recover';
import { isInsideFolder } from '../engine/scan/inside-folder';
import { createDefaultEmbedder } from '../engine/embed/default-embedder';
import { DEFAULT_COPY_THRESHOLD } from '../engine/query/duplicate-defaults';
import { ProgressView } from './progress-view';

export const EXIT = { ok: 0, error: 1, usage: 2, cancelled: 130 } as const;

export const USAGE = `Usage:
  likeness index DIR... [--db DIR] [--json]       add folders and index their photos
  likeness similar FILE [-k N] [--json]           photos like one in the library
  likeness search IMAGE [-k N] [--json]           photos like any image file
  likeness duplicates [--threshold T] [--json]    copies (T: copy score, default ${DEFAULT_COPY_THRESHOLD}) and near-duplicates
  likeness status [--json]                        photo counts and index state
  likeness recover                                rebuild a damaged library from its folders (keeps albums)
  likeness serve [--port N] [--db DIR]            the app in a browser (127.0.0.1)

Options:
  --db DIR   library folder (default: ${defaultLibraryDir()}; or set LIKENESS_DB)
  -k N       number of results (default 20)
  --yes      add the disk root or a folder of more than 100,000 files without asking
  --json     print one JSON document: the API's result, photos as PhotoDetails (with their path)

Exit codes: 0 ok, 1 error, 2 usage, 130 cancelled.`;

export class UsageError extends Error {}

export interface CliArgs {
  command: string;
  positional: string[];
  db: string;
  k: number;
  json: boolean;
  threshold: number;
  yes: boolean;
}

export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliArgs {
  const [first = 'help', ...rest] = argv;
  let command = first;
  if (command === '-h' || command === '--help') command = 'help';
  else if (command.startsWith('-')) throw new UsageError(`expected a command before ${command}`);
  const a: CliArgs = {
    command,
    positional: [],
    db: defaultLibraryDir(env),
    k: 20,
    json: false,
    threshold: DEFAULT_COPY_THRESHOLD,
    yes: false,
  };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = () => {
      const v = rest[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    const num = (min: number, max: number, int: boolean) => {
      const raw = value();
      const n = Number(raw);
      if (!Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n))) {
        throw new UsageError(
          `${flag} must be ${int ? 'an integer' : 'a number'} in ${min}..${max}, got "${raw}"`,
        );
      }
      return n;
    };
    if (flag === '--db') a.db = path.resolve(value());
    else if (flag === '-k' || flag === '--k') a.k = num(1, 10_000, true);
    else if (flag === '--json') a.json = true;
    else if (flag === '--yes') a.yes = true;
    else if (flag === '--threshold') a.threshold = num(0, 1, false);
    else if (flag === '-h' || flag === '--help') a.command = 'help';
    else if (flag.startsWith('-') && flag !== '-') throw new UsageError(`unknown option ${flag}`);
    else a.positional.push(flag);
  }
  return a;
}

export interface CliDeps {
  createEmbedder?: (options: EmbedderOptions) => Promise<PhotoEmbedder>;
  libraryOptions?: LibraryOptions;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** installs the Ctrl-C handler; tests pass a fake */
  onInterrupt?: (fn: () => void) => () => void;
}

/** The engine's API as the CLI calls it: every argument object checked against the contract first. */
interface Engine {
  call<M extends MethodName>(method: M, args?: ArgsOf<M>): Promise<ResultOf<M>>;
  on<E extends EventName>(event: E, fn: (data: EventPayloads[E]) => void): () => void;
  /** the end of the next indexing run; rejects if the run fails as a whole (the model cannot load) */
  runEnd(): Promise<EventPayloads['index.done']>;
  host: EngineHost;
}

function connect(host: EngineHost): Engine {
  const impl: LikenessApi = { ...(host.api as EngineApi), ...unavailableHostMethods('browser') };
  const on = <E extends EventName>(event: E, fn: (data: EventPayloads[E]) => void) =>
    host.events.subscribe((e) => e.event === event && fn(e.data as EventPayloads[E]));
  return {
    host,
    call: (method, args) => dispatch(impl, method, args ?? {}) as never,
    on,
    runEnd: () => {
      let offs: (() => void)[] = [];
      const end = new Promise<EventPayloads['index.done']>((resolve, reject) => {
        offs = [
          on('index.done', resolve),
          on('library.changed', ({ reason }) => {
            if (reason.startsWith(INDEXING_STOPPED)) reject(new Error(reason));
          }),
        ];
      });
      const off = () => offs.forEach((f) => f());
      // (the second handler also keeps a failure while folders are still being added from going unhandled)
      end.then(off, off);
      return end;
    },
  };
}

export async function main(argv: string[], deps: CliDeps = {}): Promise<number> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  const say = (s: string) => stdout.write(`${s}\n`);
  const warn = (s: string) => stderr.write(`${s}\n`);
  // `serve` has its own options (--port, --renderer): it gets its argv as is.
  if (argv[0] === 'serve') return runServeCommand(argv.slice(1), warn);
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    warn(`likeness: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const need = (n: number, what: string) => {
    if (args.positional.length < n) throw new UsageError(`likeness ${args.command} needs ${what}`);
  };

  if (args.command === 'help') {
    say(USAGE);
    return EXIT.ok;
  }
  if (!['index', 'similar', 'search', 'duplicates', 'status', 'recover'].includes(args.command)) {
    warn(`likeness: unknown command "${args.command}"\n\n${USAGE}`);
    return EXIT.usage;
  }

  let engine: Engine | undefined;
  try {
    if (args.command === 'index') need(1, 'at least one folder');
    if (args.command === 'similar') need(1, 'a photo file from the library');
    if (args.command === 'search') need(1, 'an image file');
    if (args.command === 'recover') {
      // Recovery rebuilds the database outside the API (nobody else may write meanwhile), then indexes the
      // recovered folders as `likeness index` does.
      const embedder = await (deps.createEmbedder ?? createDefaultEmbedder)({});
      const { lib, report: r } = await recoverLibrary(args.db, embedder, {
        watch: false,
        ...deps.libraryOptions,
      });
      warn(`the damaged database was kept as ${r.keptAt ?? '(none found)'}`);
      for (const l of r.lost) warn(`could not be read: ${l}`);
      for (const f of r.skippedFolders) warn(`folder not added back: ${f.error}`);
      warn(
        `${r.albumsRestored} albums restored with ${r.albumPhotosRestored} photos; indexing the folders again`,
      );
      args.positional = lib.listFolders().map((f) => f.path);
      args.command = 'index';
      await lib.close();
      await embedder.close?.();
    }
    const options: EngineApiOptions = {
      dbDir: args.db,
      trash: () => Promise.reject(new Error('the command line never deletes photos')),
      log: (m) => warn(`likeness: ${m}`),
      // Only `index` writes: the others are readers, which another process's lock never blocks.
      library: { watch: false, ...deps.libraryOptions, readOnly: args.command !== 'index' },
      preloadModel: false,
    };
    if (deps.createEmbedder) options.createEmbedder = deps.createEmbedder;
    engine = connect(await createEngineApi(options));
    switch (args.command) {
      case 'index':
        return await runIndex(engine, args, stdout, stderr, deps.onInterrupt ?? onSigint);
      case 'similar': {
        const photo = await engine.call('findPhoto', { path: path.resolve(args.positional[0]) });
        const found = await engine.call('similar', { photoId: photo.id, k: args.k });
        await printResults(engine, found.results, args.json, say);
        return EXIT.ok;
      }
      case 'search': {
        const file = path.resolve(args.positional[0]);
        const found = await engine.call('searchByImage', { ...readQueryImage(file), k: args.k });
        await printResults(engine, found.results, args.json, say);
        return EXIT.ok;
      }
      case 'duplicates': {
        const { groups } = await engine.call('duplicates', { threshold: args.threshold });
        // The contract's groups, each photo with its details (path included)
        const detailed = await Promise.all(
          groups.map(async (g) => {
            const photos = await detailsOf(
              engine!,
              g.photos.map((p) => p.photo),
            );
            return { ...g, photos: g.photos.map((p, i) => ({ ...p, photo: photos[i] })) };
          }),
        );
        if (args.json) say(JSON.stringify({ groups: detailed }));
        else if (!groups.length) say(`no copies at copy score ≥ ${args.threshold} and no near-duplicates`);
        else
          say(
            detailed
              .map(
                (g) =>
                  `# ${g.kind} (score ${g.score.toFixed(3)})\n` +
                  g.photos
                    .map(
                      (h) => `${h.score.toFixed(4)}\t${h.copyOf === null ? 'keep' : 'copy'}\t${h.photo.path}`,
                    )
                    .join('\n'),
              )
              .join('\n\n'),
          );
        return EXIT.ok;
      }
      case 'status': {
        const status = await engine.call('status');
        const { folders } = await engine.call('listFolders');
        const device = deviceOf(status);
        if (args.json)
          say(JSON.stringify({ library: path.resolve(args.db), status, folders, device }, null, 2));
        else printStatus(path.resolve(args.db), status, folders, device, say);
        return EXIT.ok;
      }
    }
    return EXIT.usage;
  } catch (err) {
    if (err instanceof UsageError) {
      warn(`likeness: ${err.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    warn(`likeness: ${(err as Error).message}`);
    return EXIT.error;
  } finally {
    await engine?.host.close();
  }
}

/** An image file as searchByImage takes it; "no such file" before anything is sent. */
function readQueryImage(file: string): { bytesBase64: string; name: string } {
  let bytes: Buffer;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_QUERY_IMAGE_BYTES)
      throw new Error(`${file} is larger than ${MAX_QUERY_IMAGE_BYTES / 1024 / 1024} MiB`);
    bytes = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${file}: no such file`);
    throw err;
  }
  if (bytes.length === 0) throw new Error(`${file} is empty`);
  return { bytesBase64: bytes.toString('base64'), name: path.basename(file) };
}

/** The details (with the path) of photos a result names by id. */
function detailsOf(engine: Engine, photos: { id: number }[]): Promise<PhotoDetails[]> {
  return Promise.all(photos.map((p) => engine.call('getPhoto', { photoId: p.id })));
}

async function printResults(
  engine: Engine,
  results: { photo: { id: number }; score: number }[],
  json: boolean,
  say: (s: string) => void,
): Promise<void> {
  const photos = await detailsOf(
    engine,
    results.map((r) => r.photo),
  );
  if (json) say(JSON.stringify({ results: results.map((r, i) => ({ photo: photos[i], score: r.score })) }));
  else results.forEach((r, i) => say(`${r.score.toFixed(4)}\t${photos[i].path}`));
}

interface Device {
  /** the execution provider: the one in use, or (model not loaded by this command) the one it would use */
  provider: string;
  loaded: boolean;
  /** why better providers are not used */
  skipped: { provider: string; reason: string }[];
}

function deviceOf(status: Status): Device {
  if (status.provider) return { provider: status.provider, loaded: true, skipped: [] };
  return { ...expectedProvider(), loaded: false };
}

const DEVICE_NAMES: Record<string, string> = {
  cpu: 'CPU',
  cuda: 'GPU (CUDA)',
  webgpu: 'GPU (WebGPU)',
  dml: 'GPU (DirectML)',
  coreml: 'Apple Neural Engine / GPU (Core ML)',
};

function printStatus(
  library: string,
  st: Status,
  folders: { path: string; photoCount: number }[],
  device: Device,
  say: (s: string) => void,
): void {
  say(`library   ${library}`);
  for (const f of folders) say(`folder    ${f.path} (${f.photoCount} photos)`);
  const p = st.photos;
  say(`photos    ${p.indexed} indexed, ${p.pending} pending, ${p.failed} failed`);
  if (st.model) say(`model     ${st.model.name}, ${st.model.inputSize} px`);
  const name = DEVICE_NAMES[device.provider] ?? device.provider;
  say(
    `device    ${name}${device.loaded ? ` (${describeAccelerator(st.provider, st.accelerator)})` : ' (ONNX Runtime; the model loads when a command needs it)'}`,
  );
  for (const s of device.skipped) say(`          not ${DEVICE_NAMES[s.provider] ?? s.provider}: ${s.reason}`);
  if (st.head) say(`head      v${st.head.version} ${st.head.combo} ${st.head.dim}-d`);
  say(`index     ${st.index.ready ? 'ready' : 'building'}${st.index.exact ? ' (exact search)' : ''}`);
  for (const f of st.unavailableFolders ?? [])
    say(
      `warning   ${f.path} cannot be found (drive not connected?): its photos are kept, left out of results`,
    );
  if (st.lockedBy) say(`writer    another Likeness (pid ${st.lockedBy}) is indexing this library`);
}

async function runServeCommand(argv: string[], warn: (s: string) => void): Promise<number> {
  let serve: typeof import('./serve');
  try {
    serve = await import('./serve');
  } catch (err) {
    warn(`likeness serve is not available in this build (${(err as Error).message})`);
    return EXIT.error;
  }
  try {
    serve.parseServeArgs(argv);
  } catch (err) {
    warn(`${(err as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    await serve.runServe(argv);
  } catch (err) {
    warn((err as Error).message);
    return EXIT.error;
  }
  return new Promise<number>(() => {}); // runs until the server's own signal handler exits
}

function onSigint(fn: () => void): () => void {
  process.on('SIGINT', fn);
  return () => process.off('SIGINT', fn);
}

async function runIndex(
  engine: Engine,
  args: CliArgs,
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
  onInterrupt: (fn: () => void) => () => void,
): Promise<number> {
  const log = (s: string) => !args.json && stderr.write(`${s}\n`);
  let interrupted = false;
  const offInt = onInterrupt(() => {
    if (interrupted) process.exit(EXIT.cancelled); // second Ctrl-C: leave now (the database stays consistent)
    interrupted = true;
    void engine.call('cancelIndexing').catch(() => undefined);
  });
  const view = new ProgressView(stderr);
  const offProgress = args.json ? () => {} : engine.on('index.progress', (p) => view.update(p));
  const started = Date.now();
  try {
    // Adding a folder scans it and starts (or joins) the indexing run; wait for that run to end.
    let run = engine.runEnd();
    const { folders: known } = await engine.call('listFolders');
    for (const dir of args.positional) {
      // A folder already in the library (or inside one) is scanned again for new and changed files.
      const real = realPathOr(dir);
      const holder = known.find((f) => isInsideFolder(real, f.path));
      const { folder } = holder
        ? await engine.call('rescanFolder', { folderId: holder.id })
        : await engine
            .call('addFolder', { path: path.resolve(dir), confirm: args.yes })
            .catch((err: unknown) => {
              throw err instanceof ApiError && err.code === 'confirmation_required'
                ? new Error(`${err.message.replace(/ Add it anyway\?$/, '')} Run again with --yes to add it.`)
                : err;
            });
      log(`${folder.path}: ${folder.photoCount} photos`);
      if (interrupted) break;
    }
    let done = await run;
    let newlyIndexed = done.done - done.failed;
    let newlyFailed = done.failed;
    // A folder scanned while the run was finishing leaves photos pending: run again for them.
    while (done.state === 'done' && !interrupted && (await engine.call('status')).photos.pending > 0) {
      run = engine.runEnd();
      if (!(await engine.call('startIndexing')).started) break;
      done = await run;
      newlyIndexed += done.done - done.failed;
      newlyFailed += done.failed;
    }
    view.finish();
    if (done.state === 'failed') {
      stderr.write(`likeness: ${done.error ?? 'indexing failed'}\n`);
      return EXIT.error;
    }
    const cancelled = interrupted || done.state === 'cancelled';
    if (!cancelled) await indexReady(engine, log);
    const st = await engine.call('status');
    const failures = await engine.call('listFailures', { offset: 0, limit: 20 });
    const seconds = (Date.now() - started) / 1000;
    if (args.json) {
      stdout.write(
        JSON.stringify({
          state: cancelled ? 'cancelled' : 'done',
          seconds,
          newlyIndexed,
          newlyFailed,
          photos: st.photos,
          failures: failures.items,
        }) + '\n',
      );
    } else {
      log(
        `${cancelled ? 'cancelled' : 'done'}: ${newlyIndexed} indexed, ${newlyFailed} failed in ${seconds.toFixed(1)} s`,
      );
      log(`library: ${st.photos.indexed} indexed, ${st.photos.pending} pending, ${st.photos.failed} failed`);
      for (const f of failures.items) log(`  failed ${f.error}`);
    }
    return cancelled ? EXIT.cancelled : EXIT.ok;
  } finally {
    offProgress();
    offInt();
  }
}

/**
 * Waits for the search index to be settled (after a run, its new head is learned and switched to, and a
 * graph built, in the background), so that the next command finds it on disk.
 */
async function indexReady(engine: Engine, log: (s: string) => void): Promise<void> {
  if ((await engine.call('status')).index.ready) return;
  log('building the search index…');
  await whenIndexReady({
    status: () => engine.call('status'),
    subscribe: (l) => engine.host.events.subscribe(l),
  });
}

/** The real path of `dir`, or its resolved path when it does not exist (addFolder then says so). */
function realPathOr(dir: string): string {
  try {
    return fs.realpathSync(path.resolve(dir));
  } catch {
    return path.resolve(dir);
  }
}
