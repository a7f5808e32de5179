/** Spawning the fault suite's child processes and waiting on what they print (no sleeps: lines are events). */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** resolves with the first stdout line matching `re` (rejects if the process exits first) */
  line(re: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `node --import tsx <helper> ...args` (no wrapper: signals and pids are the process's own). */
export function spawnHelper(helper: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'test/helpers', helper), ...args],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void; reject: (e: Error) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      const m = out.match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    check();
  });
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('close', (code, signal) => {
      for (const w of waiters.splice(0))
        w.reject(new Error(`${helper} exited (${code ?? signal}) before printing ${w.re}:\n${out}\n${err}`));
      resolve({ code, signal });
    }),
  );
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    line: (re) =>
      new Promise((resolve, reject) => {
        waiters.push({ re, resolve, reject });
        check();
      }),
    exited,
  };
}

/** Runs the CLI child to completion. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawnHelper('cli-child.ts', args, env);
  const { code } = await child.exited;
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

/** A running serve child and a small client for its API and media. */
export async function startServeChild(dbDir: string, delayMs = 0, env: NodeJS.ProcessEnv = {}) {
  const child = spawnHelper('serve-child.ts', [dbDir, String(delayMs)], env);
  const [, url, token] = await child.line(/^url (\S+) (\S+)$/m);
  const api = async (method: string, args: unknown = {}) => {
    const res = await fetch(`${url}api/${method}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(args),
    });
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string } },
    };
  };
  const media = async (kind: 'thumb' | 'full', id: number) =>
    (await fetch(`${url}media/${kind}/${id}`, { headers: { Authorization: `Bearer ${token}` } })).status;
  const stop = async () => {
    if (child.proc.exitCode === null) child.proc.kill('SIGTERM');
    return child.exited;
  };
  return { child, url, token, api, media, stop };
}
