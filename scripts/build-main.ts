/**
 * Bundles the main-process code into dist/main/ with esbuild:
 *   electron-boot.cjs (package.json "main": sizes libuv's pool, then loads electron-main.js)
 *   electron-main.js  (ESM)   preload.cjs (CommonJS: sandboxed preloads cannot be ESM)
 *   likeness.js       (the CLI, ESM)               serve.js (browser mode alone, what `npm start` runs)
 *   <name>.js for each worker entry (worker.ts, *.worker.ts) and utility-process entry (*.process.ts)
 * Packages in node_modules stay external (native modules must be loaded from disk, and electron-builder
 * ships production dependencies anyway). Usage: tsx scripts/build-main.ts [--out DIR]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ESM bundles that still contain require() calls from bundled CommonJS code need a real `require`.
const ESM_BANNER =
  "import { createRequire as __likenessCreateRequire } from 'node:module'; const require = __likenessCreateRequire(import.meta.url);";

export interface Entry {
  source: string;
  out: string;
  format: 'esm' | 'cjs';
  /** optional entries are skipped (with a note) while their source does not exist yet */
  optional?: boolean;
  /** the module only exports functions: this code (importing them from SOURCE) is the bundle's entry */
  wrapper?: string;
}

export function entries(): Entry[] {
  const list: Entry[] = [
    { source: 'src-main/boot/electron-boot.cjs', out: 'electron-boot.cjs', format: 'cjs' },
    { source: 'src-main/electron/main.ts', out: 'electron-main.js', format: 'esm' },
    { source: 'src-main/electron/preload.ts', out: 'preload.cjs', format: 'cjs' },
    {
      source: 'src-main/cli/likeness.ts',
      out: 'likeness.js',
      format: 'esm',
      optional: true,
      wrapper: "import { main } from 'SOURCE';\nprocess.exitCode = await main(process.argv.slice(2));",
    },
    // Browser mode on its own, so `npm start` does not depend on the CLI dispatcher.
    {
      source: 'src-main/cli/serve.ts',
      out: 'serve.js',
      format: 'esm',
      wrapper:
        "import { runServe } from 'SOURCE';\nrunServe(process.argv.slice(2)).catch((e) => { console.error(e.message); process.exit(1); });",
    },
  ];
  for (const worker of findWorkers(path.join(root, 'src-main'))) {
    // Workers and utility processes are looked up beside the bundle that starts them
    // (new URL('./worker.js', import.meta.url)).
    const out = `${path.basename(worker, '.ts')}.js`;
    const clash = list.find((e) => e.out === out);
    if (clash)
      throw new Error(
        `build-main: ${path.relative(root, worker)} and ${clash.source} would both be dist/main/${out}`,
      );
    list.push({ source: path.relative(root, worker), out, format: 'esm' });
  }
  return list;
}

function findWorkers(dir: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findWorkers(full));
    else if (/^(worker|.+\.worker|.+\.process)\.ts$/.test(entry.name)) found.push(full);
  }
  return found.sort();
}

export async function buildMain(outDir = path.join(root, 'dist', 'main')): Promise<string[]> {
  fs.mkdirSync(outDir, { recursive: true });
  const built: string[] = [];
  for (const entry of entries()) {
    const source = path.join(root, entry.source);
    if (!fs.existsSync(source)) {
      if (entry.optional) {
        console.warn(`build-main: skipping ${entry.source} (not written yet)`);
        continue;
      }
      throw new Error(`build-main: ${entry.source} is missing`);
    }
    const options: BuildOptions = {
      // Modules that only export functions get a small entry that calls them.
      ...(entry.wrapper
        ? {
            stdin: {
              contents: entry.wrapper.replace('SOURCE', `./${entry.source}`),
              resolveDir: root,
              sourcefile: `${entry.out}-entry.ts`,
              loader: 'ts' as const,
            },
          }
        : { entryPoints: [source] }),
      outfile: path.join(outDir, entry.out),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: entry.format,
      sourcemap: 'linked',
      external: ['electron'],
      packages: entry.out === 'preload.cjs' ? undefined : 'external',
      banner: entry.format === 'esm' ? { js: ESM_BANNER } : undefined,
      logLevel: 'warning',
      legalComments: 'none',
    };
    await build(options);
    built.push(entry.out);
  }
  checkPreload(path.join(outDir, 'preload.cjs'));
  return built;
}

/** A sandboxed preload can require only 'electron'; anything else would fail at runtime, so fail the build. */
function checkPreload(file: string): void {
  const text = fs.readFileSync(file, 'utf8');
  const required = [...text.matchAll(/\brequire\(["']([^"']+)["']\)/g)].map((m) => m[1]);
  const foreign = required.filter((r) => r !== 'electron');
  if (foreign.length)
    throw new Error(`build-main: the preload requires ${foreign.join(', ')}; it may only use 'electron'`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  buildMain(i > 0 ? path.resolve(process.argv[i + 1]) : undefined).then(
    (built) => console.log(`build-main: ${built.join(', ')} → dist/main`),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
