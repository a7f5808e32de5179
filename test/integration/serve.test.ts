import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseServeArgs, runServe } from '../../src-main/cli/serve';
import type { EngineApi, LikenessEvent } from '../../src-main/engine/api/contract';
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
