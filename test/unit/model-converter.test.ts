/**
 * The converter and the model store, on real nsfwjs weights (MobileNetV2 is small enough for a
 * unit test): the ONNX it writes loads in ONNX Runtime and has the declared outputs; a tampered
 * file is refused; a stale manifest is rebuilt; a missing source is a clear error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { kerasToOnnx, ConversionError } from '../../src-main/model-build/keras-to-onnx';
import { loadKerasModel, ModelSourceError } from '../../src-main/model-build/nsfwjs-source';
import { ensureModel, TamperedModelError } from '../../src-main/engine/model/model-store';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'likeness-model-'));

test('MobileNetV2 converts to an ONNX backbone with SPoC/MAC/GeM outputs of any input size', async () => {
  const keras = loadKerasModel('mobilenet_v2');
  const conv = kerasToOnnx(keras, {
    tap: 'block_5_add',
    inputSize: 224,
    preprocess: { scale: 1 / 255, offset: 0 },
    producerVersion: 't',
  });
  assert.equal(conv.channels, 32);
  assert.equal(conv.stride, 8);
  assert.ok(conv.flops > 1e8);
  const session = await ort.InferenceSession.create(conv.bytes);
  assert.deepEqual(session.outputNames, ['spoc', 'mac', 'gem']);
  for (const size of [224, 160]) {
    const px = new Uint8Array(size * size * 3).map((_, i) => (i * 31) % 256);
    const out = await session.run({ pixels: new ort.Tensor('uint8', px, [1, size, size, 3]) });
    const s = out.spoc.data as Float32Array;
    const m = out.mac.data as Float32Array;
    const g = out.gem.data as Float32Array;
    assert.deepEqual(out.spoc.dims, [1, 32]);
    for (let c = 0; c < 32; c++) {
      assert.ok(m[c] >= s[c] - 1e-5, 'max ≥ mean');
      // GeM runs over the map clamped at 1e-6, so it lies between that floor and max(max, floor).
      assert.ok(g[c] <= Math.max(m[c], 1e-6) + 1e-4 && g[c] > 0, 'GeM lies between the clamp and the max');
    }
  }
  await session.release();
});

test('an unknown tap or layer type is a clear conversion error', () => {
  const keras = loadKerasModel('mobilenet_v2');
  assert.throws(
    () =>
      kerasToOnnx(keras, {
        tap: 'no_such_layer',
        inputSize: 224,
        preprocess: { scale: 1, offset: 0 },
        producerVersion: 't',
      }),
    (e: Error) => e instanceof ConversionError && /no_such_layer/.test(e.message),
  );
  assert.throws(
    () =>
      kerasToOnnx(keras, {
        tap: 'dense_1',
        inputSize: 224,
        preprocess: { scale: 1, offset: 0 },
        producerVersion: 't',
      }),
    /not supported|not in/,
  );
});

test('a missing or corrupt nsfwjs is reported with the file and cause', () => {
  const root = tmp();
  assert.throws(
    () => loadKerasModel('mobilenet_v2', root),
    (e: Error) => e instanceof ModelSourceError && /model\.min\.js/.test(e.message),
  );
  const dir = path.join(root, 'dist', 'models', 'mobilenet_v2');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(root, 'package.json'), '{"version":"0"}');
  fs.writeFileSync(path.join(dir, 'model.min.js'), 'module.exports = {garbage: true};');
  assert.throws(() => loadKerasModel('mobilenet_v2', root), /Corrupt model file .*model\.min\.js/);
  fs.writeFileSync(path.join(dir, 'model.min.js'), 'this is not javascript (');
  assert.throws(() => loadKerasModel('mobilenet_v2', root), /Corrupt model file/);
});

test('model store: builds when missing, reuses when current, rebuilds when stale, refuses when tampered', () => {
  const dir = tmp();
  const id = 'mobilenet_v2-block_12_add';
  const first = ensureModel(id, dir);
  assert.equal(first.built, true);
  assert.equal(ensureModel(id, dir).built, false);

  // Stale: an older converter version in the manifest → rebuilt.
  const mf = path.join(dir, id, 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(mf, 'utf8'));
  fs.writeFileSync(mf, JSON.stringify({ ...manifest, converterVersion: 0 }));
  assert.equal(ensureModel(id, dir).built, true);

  // Tampered: same manifest, different bytes → refused with the path in the message.
  const model = path.join(dir, id, 'backbone.onnx');
  const bytes = fs.readFileSync(model);
  bytes[bytes.length - 10] ^= 0xff;
  fs.writeFileSync(model, bytes);
  assert.throws(
    () => ensureModel(id, dir),
    (e: Error) => e instanceof TamperedModelError && e.message.includes(model),
  );
});
