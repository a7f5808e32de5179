import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseServeArgs, runServe } from '../../src-main/cli/serve';
import type { EngineApi, LikenessEvent, Status } from '../../src-main/engine/api/contract';
import type { EngineApiOptions, EngineHost } from '../../src-main/engine/api/engine-api';

test('likeness serve prints the URL line, answers with the token, and closes the engine on stop', async () => {
  const dbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'likeness-serve-'));
  let opened: EngineApiOptions | undefined;
  let closed = 0;
  const engine: EngineHost = {
    api: { status: async () => ({ folders: 7 }) } as unknown as EngineApi,
    events: { subscribe: (_l: (e: LikenessEvent) => void) => () => undefined },
    images: {
      thumbnail: () => Promise.reject(new Error('none')),
      original: () => Promise.reject(new Error('none')),
    },
    close: async () => void closed++,
  };
  const lines: string[] = [];
  const served = await runServe(['--port', '0', '--db', dbDir], {
    createEngine: async (options) => ((opened = options), engine),
    out: (line) => lines.push(line),
  });
  try {
    assert.equal(lines.length, 1);
    const match = /^Likeness on http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+)$/.exec(lines[0]);
    assert.ok(match, lines[0]);
    assert.notEqual(Number(match[1]), 0, 'port 0 picks a free port');
    assert.equal(opened?.dbDir, dbDir);
    assert.equal(typeof opened?.trash, 'function');
    const res = await fetch(`http://127.0.0.1:${match[1]}/api/status`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${match[2]}` },
    });
    assert.deepEqual(await res.json(), { folders: 7 });
    const host = await fetch(`http://127.0.0.1:${match[1]}/api/hostInfo`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${match[2]}` },
    });
    assert.deepEqual(await host.json(), { mode: 'browser' });
  } finally {
    await served.stop();
    fs.rmSync(dbDir, { recursive: true, force: true });
  }
  assert.equal(closed, 1);
});

test('serve arguments are checked with clear messages', () => {
  assert.equal(parseServeArgs(['--port', '8123']).port, 8123);
  assert.equal(parseServeArgs([], { LIKENESS_DB: '/tmp/lib' }).dbDir, '/tmp/lib');
  assert.throws(() => parseServeArgs(['--port', 'abc']), /--port must be 0\.\.65535/);
  assert.throws(() => parseServeArgs(['--port']), /--port needs a value/);
  assert.throws(() => parseServeArgs(['--verbose']), /unknown option --verbose/);
});

test('bin/likeness.js serve --port 0 --db DIR: the real engine answers with the printed token, 401 without', async () => {
  const dbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'likeness-serve-bin-'));
  const root = path.resolve(import.meta.dirname, '../..');
  const child = spawn(process.execPath, ['bin/likeness.js', 'serve', '--port', '0', '--db', dbDir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  try {
    const [, port, token] = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no address printed in 60 s:\n${log}`)), 60_000);
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        const m = /Likeness on http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+)\n/.exec(log);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`serve exited (${code}):\n${log}`));
      });
    });
    const call = (headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${port}/api/status`, { method: 'POST', headers });
    const ok = await call({ Authorization: `Bearer ${token}` });
    assert.equal(ok.status, 200);
    const status = (await ok.json()) as Status;
    assert.deepEqual(status.photos, { total: 0, indexed: 0, pending: 0, failed: 0, missing: 0 });
    assert.equal(status.folders, 0);
    assert.equal((await call({})).status, 401);
    assert.equal((await call({ Authorization: 'Bearer wrong-token' })).status, 401);
    // A bad folder comes back as a clear, typed error from the real library.
    const bad = await fetch(`http://127.0.0.1:${port}/api/addFolder`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ path: path.join(dbDir, 'no such folder') }),
    });
    assert.equal(bad.status, 404);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /no such folder/);
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dbDir, { recursive: true, force: true });
  }
  assert.equal(child.exitCode, 0, `serve shuts down cleanly on SIGTERM:\n${log}`);
});

test('likeness serve: bad options are a usage error (exit 2), not a crash', () => {
  const root = path.resolve(import.meta.dirname, '../..');
  const r = spawnSync(process.execPath, ['bin/likeness.js', 'serve', '--port', 'abc'], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--port must be 0\.\.65535/);
});
