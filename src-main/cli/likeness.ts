/**
 * The `likeness` command line: index folders and query the library from a terminal.
 *
 *   likeness index DIR... [--db DIR] [--json]
 *   likeness similar FILE [-k N] [--json] [--db DIR]
 *   likeness search IMAGE [-k N] [--json] [--db DIR]
 *   likeness duplicates [--threshold T] [--json] [--db DIR]
 *   likeness status [--json] [--db DIR]
 *   likeness serve [--port N] [--db DIR]
 *
 * Exit codes: 0 ok, 1 error, 2 usage, 130 cancelled (Ctrl-C).
 */
import path from 'node:path';
import { defaultLibraryDir } from '../engine/api/library-dir';
import type { PhotoEmbedder } from '../engine/embed/photo-embedder';
import { Library, type LibraryOptions } from '../engine/library';
import { DEFAULT_COPY_THRESHOLD } from '../engine/query/duplicate-defaults';
import type { SearchHit } from '../engine/query/types';
import { ProgressView } from './progress-view';

export const EXIT = { ok: 0, error: 1, usage: 2, cancelled: 130 } as const;

export const USAGE = `Usage:
  likeness index DIR... [--db DIR] [--json]       add folders and index their photos
  likeness similar FILE [-k N] [--json]           photos like one in the library
  likeness search IMAGE [-k N] [--json]           photos like any image file
  likeness duplicates [--threshold T] [--json]    copies (T: copy score, default 0.975) and near-duplicates
  likeness status [--json]                        photo counts and index state
  likeness serve [--port N] [--db DIR]            the app in a browser (127.0.0.1)

Options:
  --db DIR   library folder (default: ${defaultLibraryDir()}; or set LIKENESS_DB)
  -k N       number of results (default 20)
  --json     print one JSON document (queries: [{"path", "score"}] best first)

Exit codes: 0 ok, 1 error, 2 usage, 130 cancelled.`;

export class UsageError extends Error {}

export interface CliArgs {
  command: string;
  positional: string[];
  db: string;
  k: number;
  json: boolean;
  threshold: number;
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
    else if (flag === '--threshold') a.threshold = num(0, 1, false);
    else if (flag === '-h' || flag === '--help') a.command = 'help';
    else if (flag.startsWith('-') && flag !== '-') throw new UsageError(`unknown option ${flag}`);
    else a.positional.push(flag);
  }
  return a;
}

export interface CliDeps {
  createEmbedder?: () => Promise<PhotoEmbedder>;
  libraryOptions?: LibraryOptions;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** installs the Ctrl-C handler; tests pass a fake */
  onInterrupt?: (fn: () => void) => () => void;
}

/** The default embedder, imported lazily so commands that need no model start fast. */
async function defaultEmbedder(): Promise<PhotoEmbedder> {
  const mod = await import('../engine/embed/default-embedder');
  return mod.createDefaultEmbedder();
}

const hitsJson = (hits: SearchHit[]) =>
  hits.map((h) => ({ path: h.photo.path, score: Number(h.score.toFixed(6)) }));

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
  if (!['index', 'similar', 'search', 'duplicates', 'status'].includes(args.command)) {
    warn(`likeness: unknown command "${args.command}"\n\n${USAGE}`);
    return EXIT.usage;
  }

  let lib: Library | undefined;
  let embedder: PhotoEmbedder | undefined;
  try {
    if (args.command === 'index') need(1, 'at least one folder');
    if (args.command === 'similar') need(1, 'a photo file from the library');
    if (args.command === 'search') need(1, 'an image file');
    embedder = await (deps.createEmbedder ?? defaultEmbedder)();
    lib = await Library.open(args.db, embedder, deps.libraryOptions);
    lib.on('warning', (m) => warn(`warning: ${m}`));
    switch (args.command) {
      case 'index':
        return await runIndex(lib, args, stdout, stderr, deps.onInterrupt ?? onSigint);
      case 'similar': {
        const photo = lib.photoByPath(args.positional[0]);
        if (!photo)
          throw new Error(
            `${path.resolve(args.positional[0])} is not in the library (index its folder, or use "likeness search")`,
          );
        printHits(lib.similar(photo.id, { k: args.k }), args.json, say);
        return EXIT.ok;
      }
      case 'search':
        printHits(await lib.searchByImage(path.resolve(args.positional[0]), { k: args.k }), args.json, say);
        return EXIT.ok;
      case 'duplicates': {
        const groups = await lib.duplicates(args.threshold);
        if (args.json)
          say(
            JSON.stringify(
              groups.map((g) => ({
                kind: g.kind,
                score: g.score,
                photos: hitsJson(g.photos).map((h, i) => ({
                  ...h,
                  // the path of the copy to keep, for a photo that is a copy of it
                  copyOf: g.photos.find((p) => p.photo.id === g.photos[i].copyOf)?.photo.path ?? null,
                })),
              })),
            ),
          );
        else if (!groups.length) say(`no copies at copy score ≥ ${args.threshold} and no near-duplicates`);
        else
          say(
            groups
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
        const st = lib.status();
        const doc = {
          db: lib.dbDir,
          folders: lib.listFolders().map((f) => ({ path: f.path, photos: f.photoCount })),
          indexed: st.photos.indexed,
          pending: st.photos.pending,
          failed: st.photos.failed,
          missing: st.photos.missing,
          total: st.photos.total,
          model: st.modelId,
          head: st.head,
          index: st.index,
        };
        if (args.json) say(JSON.stringify(doc, null, 2));
        else {
          say(`library   ${doc.db}`);
          for (const f of doc.folders) say(`folder    ${f.path} (${f.photos} photos)`);
          say(
            `photos    ${doc.indexed} indexed, ${doc.pending} pending, ${doc.failed} failed, ${doc.missing} missing`,
          );
          say(`head      v${st.head.version} ${st.head.kind} ${st.head.combo} ${st.head.dim}-d`);
          say(`index     ${st.index.ready ? 'ready' : 'building'}${st.index.exact ? ' (exact search)' : ''}`);
        }
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
    await lib?.close();
    await (embedder as { close?: () => Promise<void> } | undefined)?.close?.();
  }
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

function printHits(hits: SearchHit[], json: boolean, say: (s: string) => void): void {
  if (json) say(JSON.stringify(hitsJson(hits)));
  else for (const h of hits) say(`${h.score.toFixed(4)}\t${h.photo.path}`);
}

function onSigint(fn: () => void): () => void {
  process.on('SIGINT', fn);
  return () => process.off('SIGINT', fn);
}

async function runIndex(
  lib: Library,
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
    lib.cancel();
  });
  const view = new ProgressView(stderr);
  const offProgress = args.json ? () => {} : lib.on('progress', (p) => view.update(p));
  try {
    for (const dir of args.positional) {
      const { folder, scan } = await lib.addFolder(dir);
      log(
        `${folder.path}: ${scan.seen} photos (${scan.added.length} new, ${scan.changed.length} changed, ${scan.moved.length} moved, ${scan.missing.length} missing)`,
      );
      for (const i of scan.issues.slice(0, 10)) log(`  skipped ${i.path}: ${i.error}`);
      if (interrupted) break;
    }
    if (interrupted) {
      log('cancelled');
      return EXIT.cancelled;
    }
    const summary = await lib.startIndexing();
    view.finish();
    if (!lib.status().index.ready) {
      log('building the search index…');
      await lib.whenIndexReady();
    }
    const st = lib.status();
    const failures = lib.store.failedPhotos(20);
    if (args.json) {
      stdout.write(
        JSON.stringify({
          state: summary.state,
          seconds: summary.seconds,
          newlyIndexed: summary.done,
          newlyFailed: summary.failed,
          indexed: st.photos.indexed,
          pending: st.photos.pending,
          failed: st.photos.failed,
          missing: st.photos.missing,
          failures: failures.map((f) => ({ path: f.path, error: f.error })),
        }) + '\n',
      );
    } else {
      log(
        `${summary.state === 'cancelled' ? 'cancelled' : 'done'}: ${summary.done} indexed, ${summary.failed} failed in ${summary.seconds.toFixed(1)} s`,
      );
      log(`library: ${st.photos.indexed} indexed, ${st.photos.pending} pending, ${st.photos.failed} failed`);
      for (const f of failures) log(`  failed ${f.error}`);
    }
    return summary.state === 'cancelled' ? EXIT.cancelled : EXIT.ok;
  } finally {
    offProgress();
    offInt();
  }
}
