/**
 * Parity: the ONNX backbone our converter builds must compute the same pooled descriptors as the
 * original Keras model (run by tfjs, which parses and dequantises the weights independently),
 * on real photos.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { decodeImage } from '../../src-main/engine/decode/decode-image';
import { Backbone } from '../../src-main/engine/embed/backbone';
import { BackboneThread } from '../../src-main/engine/embed/backbone-thread';
import { ensureModel } from '../../src-main/engine/model/model-store';
import { BACKBONES, DEFAULT_BACKBONE } from '../../src-main/engine/model/model-spec';
import { loadReference, referencePooled } from '../helpers/keras-reference';
import { cosine } from '../helpers/cosine';

const holidays = path.resolve('..', 'shared', 'datasets', 'holidays', 'images');
const photos = ['100000.jpg', '100101.jpg'].map((f) => path.join(holidays, f));

test(
  'default ONNX backbone matches the Keras reference on real photos (cosine ≥ 0.9999)',
  { timeout: 600_000 },
  async (t) => {
    if (!photos.every((p) => fs.existsSync(p))) {
      assert.fail(
        `dataset photos missing: ${photos.join(', ')} (../shared/datasets must be beside the project)`,
      );
    }
    const spec = BACKBONES[DEFAULT_BACKBONE];
    const { manifest, modelPath } = ensureModel(DEFAULT_BACKBONE);
    const backbone = new Backbone(manifest, modelPath, undefined, ['cpu']);
    const reference = await loadReference(spec.source, spec.tap);
    try {
      for (const file of photos) {
        // The Keras model declares its native input size; our graph takes any size, so compare there.
        const size = reference.inputs[0].shape[1] as number;
        const { tensor } = await decodeImage(file, { input: { size, fit: 'crop' } });
        const [ours] = await backbone.run([tensor]);
        const ref = referencePooled(reference, tensor.pixels, size, spec.preprocess, spec.gemP);
        for (const k of ['S', 'M', 'G'] as const) {
          const c = cosine(ours[k], ref[k]);
          t.diagnostic(`${path.basename(file)} ${k}: cosine ${c.toFixed(6)}`);
          assert.ok(c >= 0.9999, `${path.basename(file)} branch ${k}: cosine ${c} < 0.9999`);
          assert.equal(ours[k].length, manifest.outputs.dim);
        }
      }
    } finally {
      await backbone.close();
    }
  },
);

test('the backbone in its worker thread returns what the in-thread backbone does, and survives close', async () => {
  const { manifest, modelPath } = ensureModel(DEFAULT_BACKBONE);
  const size = 96; // the graph takes any size; small keeps the test fast
  // two shapes in one call: the backbone runs each shape apart and keeps the callers' order
  const images = [0, 1, 2].map((k) => {
    const height = k === 1 ? (size * 2) / 3 : size;
    const pixels = Uint8Array.from({ length: size * height * 3 }, (_, i) => (i * (k + 3)) % 251);
    return { pixels, width: size, height };
  });
  const direct = new Backbone(manifest, modelPath, undefined, ['cpu']);
  const thread = new BackboneThread(manifest, modelPath, undefined, ['cpu']);
  try {
    // no int8 copy given: fp32, as a GPU would run
    assert.deepEqual(await thread.warm(), { provider: 'cpu', precision: 'fp32', skipped: [] });
    const [a, b] = await Promise.all([direct.run(images), thread.run(images)]);
    const [alone] = await direct.run([images[1]]);
    assert.equal(b.length, 3);
    for (let i = 0; i < 3; i++) for (const k of ['S', 'M', 'G'] as const) assert.deepEqual(b[i][k], a[i][k]);
    assert.deepEqual(a[1].G, alone.G, 'the odd-shaped photo gets its own result');
    assert.notDeepEqual(a[0].G, a[1].G);
    await assert.rejects(
      thread.run([{ pixels: new Uint8Array(5), width: 2, height: 2 }]),
      /has 5 bytes, expected 2×2×3/,
    );
    await thread.close();
    // a closed thread starts a fresh worker on the next call
    const again = await thread.run(images.slice(0, 1));
    assert.deepEqual(again[0].G, a[0].G);
  } finally {
    await Promise.all([direct.close(), thread.close()]);
  }
});
