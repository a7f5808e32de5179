/**
 * electron-builder.yml, read and validated by electron-builder's own code (its YAML loader and its JSON
 * schema, both installed with it), plus the settings this app depends on. Runs offline: packaging itself
 * needs to download Electron, validation does not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

interface Config {
  /** getConfig normalises `files` to [{ filter: [...] }] */
  files?: (string | { filter?: string[] })[];
  asar?: boolean;
  asarUnpack?: string[];
  extraResources?: (string | { from?: string; to?: string; filter?: string[] })[];
  npmRebuild?: boolean;
  extraMetadata?: { main?: string };
  linux?: { target?: string[] };
  win?: { target?: string[] };
  mac?: { target?: string[] };
  directories?: { output?: string };
  electronFuses?: Record<string, boolean>;
}

const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  getConfig(projectDir: string, configPath: string | null, fromOptions: null): Promise<Config>;
  validateConfiguration(config: Config, logger: unknown): Promise<void>;
};
const { DebugLogger, log } = require('builder-util') as {
  DebugLogger: new (enabled: boolean) => unknown;
  log: { stream: NodeJS.WritableStream };
};
// electron-builder logs ("• loaded configuration …") to stdout, where node:test's child process sends its
// serialized reports: the two interleave and the runner intermittently fails to deserialize them.
log.stream = process.stderr;

const load = () => getConfig(root, path.join(root, 'electron-builder.yml'), null);

test('electron-builder.yml passes electron-builder’s own schema validation', async () => {
  const config = await load();
  await validateConfiguration(config, new DebugLogger(false));
});

test('the validator really rejects a broken configuration (so the test above can fail)', async () => {
  const config = { ...(await load()), asarUnpackk: ['x'] } as Config;
  await assert.rejects(validateConfiguration(config, new DebugLogger(false)), /asarUnpackk/);
});

test('targets: Linux AppImage + deb, Windows NSIS, macOS dmg', async () => {
  const config = await load();
  assert.deepEqual(config.linux?.target, ['AppImage', 'deb']);
  assert.deepEqual(config.win?.target, ['nsis']);
  assert.deepEqual(config.mac?.target, ['dmg']);
});

test('native modules are unpacked from asar and rebuilt for Electron; the model ships outside the asar', async () => {
  const config = await load();
  assert.equal(config.asar, true);
  assert.equal(config.npmRebuild, true);
  for (const module of ['better-sqlite3', 'hnswlib-node', 'onnxruntime-node', 'sharp', '@img']) {
    assert.ok(config.asarUnpack?.includes(`**/node_modules/${module}/**`), `${module} is unpacked`);
  }
  const files = (config.files ?? []).flatMap((f) => (typeof f === 'string' ? [f] : (f.filter ?? [])));
  assert.ok(files.includes('dist/**/*'), 'bundles are packaged');
  // <resources>/models is where models-dir.ts looks in a packaged app (process.resourcesPath)
  const models = config.extraResources?.find((r) => typeof r === 'object' && r.from === 'resources/models');
  assert.ok(models && typeof models === 'object' && models.to === 'models', 'the model is an extra resource');
});

test('the packaged entry point is the bundle build-main writes', async () => {
  const config = await load();
  const pkg = require(path.join(root, 'package.json')) as { main: string };
  // A CommonJS bootstrap that sizes libuv's pool, then loads the ES-module main.
  assert.equal(config.extraMetadata?.main, 'dist/main/electron-boot.cjs');
  assert.equal(pkg.main, config.extraMetadata?.main);
  const { entries } = await import('../../scripts/build-main');
  const out = entries();
  assert.ok(
    out.some((e) => `dist/main/${e.out}` === pkg.main && e.source === 'src-main/boot/electron-boot.cjs'),
  );
  assert.ok(out.some((e) => e.out === 'electron-main.js' && e.source === 'src-main/electron/main.ts'));
  // the engine's utility process starts from a bundle beside electron-main.js (engine-in-utility.ts)
  assert.ok(
    out.some((e) => e.out === 'engine.process.js' && e.source === 'src-main/electron/engine.process.ts'),
  );
});

test('Electron fuses: no RunAsNode, NODE_OPTIONS or inspect arguments; asar integrity and cookie encryption on', async () => {
  const config = await load();
  assert.deepEqual(config.electronFuses, {
    runAsNode: false,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    enableCookieEncryption: true,
    grantFileProtocolExtraPrivileges: false,
  });
  // The schema knows every one of these names (a misspelt fuse would be rejected, not silently ignored).
  const misspelt = { ...config, electronFuses: { ...config.electronFuses, runAsNodee: false } } as Config;
  await assert.rejects(
    validateConfiguration(misspelt, new DebugLogger(false)),
    /configuration\.electronFuses/,
  );
});
