import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeLabel } from '../../src-renderer/src/lib/runtime-label';

const model = { name: 'InceptionV3 (CGD pooling)', tap: 'mixed5', inputSize: 299, dim: 768 };
const head = { version: 6, combo: 'SG', dim: 512 };

test('the status bar names the hardware and the model version in plain words, details on hover', () => {
  assert.equal(runtimeLabel({ model, provider: 'cpu', head }).text, 'CPU · model v6');
  assert.equal(runtimeLabel({ model, provider: 'webgpu', head }).text, 'GPU (WebGPU) · model v6');
  assert.equal(runtimeLabel({ model, provider: 'cuda', head }).text, 'GPU (CUDA) · model v6');
  const { text, detail } = runtimeLabel({ model, provider: 'dml', head });
  assert.equal(text, 'GPU (DirectML) · model v6');
  assert.doesNotMatch(text, /mixed5|SG|512/, 'no jargon in the line itself');
  assert.match(detail, /mixed5/);
  assert.match(detail, /512-dimensional/);
  assert.match(detail, /ONNX Runtime: dml/);
  assert.equal(runtimeLabel({ model: null, provider: null, head: null }).text, 'Loading the model…');
});
