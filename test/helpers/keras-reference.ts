/**
 * Reference forward pass of the original Keras model with @tensorflow/tfjs (pure-JS CPU backend):
 * an implementation independent of our converter, used to check the ONNX backbone's parity.
 * tfjs reads the topology and the quantised shards itself and dequantises them its own way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { nsfwjsRoot, type SourceModelName } from '../../src-main/model-build/nsfwjs-source';

const require = createRequire(import.meta.url);

export async function loadReference(model: SourceModelName, tap: string): Promise<tf.LayersModel> {
  await tf.setBackend('cpu');
  const dir = path.join(nsfwjsRoot(), 'dist', 'models', model);
  const json = require(path.join(dir, 'model.min.js'));
  const group = json.weightsManifest[0];
  const shards = group.paths.map((p: string) =>
    Buffer.from(require(path.join(dir, `${p}.min.js`)) as string, 'base64'),
  );
  const data = Buffer.concat(shards);
  const full = await tf.loadLayersModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: group.weights,
      weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    }),
  });
  if (!fs.existsSync(dir)) throw new Error(dir);
  return tf.model({ inputs: full.inputs, outputs: full.getLayer(tap).output as tf.SymbolicTensor });
}

/** SPoC, MAC, GeM(p) of the tap's feature map for one uint8 HWC image, computed in tfjs. */
export function referencePooled(
  net: tf.LayersModel,
  pixels: Uint8Array,
  size: number,
  pre: { scale: number; offset: number },
  p = 3,
): { S: Float32Array; M: Float32Array; G: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(pixels), [1, size, size, 3]).mul(pre.scale).add(pre.offset);
    const fmap = net.predict(x) as tf.Tensor4D;
    const S = fmap.mean([1, 2]).dataSync() as Float32Array;
    const M = fmap.max([1, 2]).dataSync() as Float32Array;
    const G = fmap
      .maximum(1e-6)
      .pow(p)
      .mean([1, 2])
      .pow(1 / p)
      .dataSync() as Float32Array;
    return { S: Float32Array.from(S), M: Float32Array.from(M), G: Float32Array.from(G) };
  });
}
