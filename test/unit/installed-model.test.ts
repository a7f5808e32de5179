/**
 * The model at run time: found where the packaged app ships it, opened without nsfwjs or hashing, and
 * checked (refused when modified) only when it is loaded for inference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createDefaultEmbedder } from '../../src-main/engine/embed/default-embedder';
import {
  defaultModelsDir,
  loadInstalledModel,
  ModelNotInstalledError,
} from '../../src-main/engine/model/model-store';
import { DEFAULT_BACKBONE } from '../../src-main/engine/model/model-spec';
import { resolveModelsDir } from '../../src-main/engine/model/models-dir';
import { tempDir } from '../helpers/images';

const root = path.resolve(import.meta.dirname, '..', '..');

test('models dir: LIKENESS_MODELS_DIR, else the packaged resources, else the project’s resources/models', () => {
  const resources = tempDir();
  assert.equal(
    resolveModelsDir({ env: { LIKENESS_MODELS_DIR: '/x/models' }, resourcesPath: resources }),
    '/x/models',
  );
  // Electron's resourcesPath without a models folder (running from a checkout): the project's
  const here = path.join(root, 'dist', 'main');
  assert.equal(
    resolveModelsDir({ env: {}, resourcesPath: resources, from: here }),
    path.join(root, 'resources', 'models'),
  );
  fs.mkdirSync(path.join(resources, 'models'));
  assert.equal(
    resolveModelsDir({ env: {}, resourcesPath: resources, from: here }),
    path.join(resources, 'models'),
  );
  assert.equal(
    resolveModelsDir({ env: {}, resourcesPath: undefined, from: here }),
    path.join(root, 'resources', 'models'),
  );
});

test('an installed model opens from its manifest alone; a missing one says how to build it', () => {
  const { manifest, modelPath, modelId } = loadInstalledModel();
  assert.equal(modelPath, path.join(defaultModelsDir(), DEFAULT_BACKBONE, manifest.file));
  assert.equal(modelId, `${manifest.id}@${manifest.sha256.slice(0, 12)}`);
  assert.throws(
    () => loadInstalledModel(DEFAULT_BACKBONE, tempDir()),
    (e: Error) => {
      assert.ok(e instanceof ModelNotInstalledError);
      assert.match(e.message, /npm run build:model/);
      return true;
    },
  );
  assert.throws(() => loadInstalledModel(DEFAULT_BACKBONE, undefined, 'int8.onnx'), /has no file int8\.onnx/);
});

test('a modified model file: the embedder opens, and loading it for inference refuses it', async () => {
  const models = tempDir();
  const dir = path.join(models, DEFAULT_BACKBONE);
  fs.mkdirSync(dir);
  const real = path.join(defaultModelsDir(), DEFAULT_BACKBONE);
  fs.copyFileSync(path.join(real, 'manifest.json'), path.join(dir, 'manifest.json'));
  const { manifest } = loadInstalledModel();
  const bytes = fs.readFileSync(path.join(real, manifest.file));
  bytes[bytes.length >> 1] ^= 0xff;
  fs.writeFileSync(path.join(dir, manifest.file), bytes);

  const embedder = await createDefaultEmbedder({ modelsDir: models });
  try {
    assert.equal(embedder.provider, null, 'nothing loaded yet');
    await assert.rejects(embedder.load!(), /does not match its manifest/);
    const size = manifest.input.size;
    const blank = { pixels: new Uint8Array(size * size * 3), width: size, height: size };
    await assert.rejects(embedder.embed([blank]), /does not match/);
    assert.equal(embedder.provider, null);
  } finally {
    await embedder.close?.();
  }
});
