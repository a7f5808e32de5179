import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as ort from 'onnxruntime-node';
import { describeAccelerator } from '../../src-main/engine/api/contract';
import { DataType, GraphBuilder, encodeOnnxModel } from '../../src-main/engine/model/onnx-writer';
import { backboneModelFor } from '../../src-main/engine/embed/backbone';
import {
  createSessionWithFallback,
  errorReason,
  ortRuntime,
  preferredProviders,
  type OrtRuntime,
  type ProviderName,
} from '../../src-main/engine/runtime/execution-provider';

const ALL = ['cpu', 'webgpu', 'cuda', 'tensorrt', 'dml', 'coreml'].map((name) => ({ name, bundled: true }));
const names = (...n: string[]) => n.map((name) => ({ name }));

test('provider order: from the platform, among the backends the runtime lists, CPU last', () => {
  assert.deepEqual(preferredProviders('linux', 'x64', undefined, ALL), ['cuda', 'webgpu', 'cpu']);
  // onnxruntime-node 1.30 on Linux x64 lists cpu, webgpu (bundled), cuda and tensorrt (installable)
  assert.deepEqual(preferredProviders('linux', 'x64', undefined, names('cpu', 'webgpu')), ['webgpu', 'cpu']);
  assert.deepEqual(preferredProviders('linux', 'arm64', undefined, ALL), ['webgpu', 'cpu']);
  assert.deepEqual(preferredProviders('win32', 'x64', undefined, ALL), ['dml', 'webgpu', 'cpu']);
  assert.deepEqual(preferredProviders('darwin', 'arm64', undefined, ALL), ['coreml', 'webgpu', 'cpu']);
  assert.deepEqual(preferredProviders('darwin', 'arm64', undefined, names('cpu')), ['cpu']);
  assert.deepEqual(preferredProviders('freebsd', 'x64', undefined, ALL), ['cpu']);
});

test('LIKENESS_PROVIDER forces one provider (with the CPU behind it); unknown values are refused', () => {
  assert.deepEqual(preferredProviders('linux', 'x64', 'webgpu', names('cpu')), ['webgpu', 'cpu']);
  assert.deepEqual(preferredProviders('linux', 'x64', 'cpu', ALL), ['cpu']);
  assert.throws(() => preferredProviders('linux', 'x64', 'vulkan', ALL), /LIKENESS_PROVIDER=vulkan/);
});

test(
  'the real runtime lists WebGPU on Linux x64 (bundled in onnxruntime-node)',
  { skip: process.platform !== 'linux' || process.arch !== 'x64' },
  () => {
    const listed = ortRuntime.listSupportedBackends();
    assert.ok(
      listed.some((b) => b.name === 'webgpu' && b.bundled),
      JSON.stringify(listed),
    );
    assert.ok(preferredProviders('linux', 'x64', undefined).includes('webgpu'));
  },
);

const ADAPTER_ERROR =
  '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n';

/** A runtime whose WebGPU has no adapter (a CI machine), recording what each session was asked to load. */
function fakeRuntime(failing: ProviderName[]): OrtRuntime & { loaded: [string, string][] } {
  const loaded: [string, string][] = [];
  return {
    loaded,
    listSupportedBackends: () => ALL,
    unavailable: () => null,
    create: async (model, options) => {
      const provider = String(options.executionProviders?.[0]);
      if (failing.includes(provider as ProviderName)) throw new Error(ADAPTER_ERROR);
      loaded.push([provider, String(model)]);
      return { release: async () => {} } as unknown as ort.InferenceSession;
    },
  };
}

test('no WebGPU adapter: falls back to the CPU, with the reason, and the CPU runs the int8 copy', async () => {
  const rt = fakeRuntime(['webgpu']);
  const logs: string[] = [];
  const choice = await createSessionWithFallback(
    backboneModelFor('fp32.onnx', 'int8.onnx'),
    ['webgpu', 'cpu'],
    (m) => logs.push(m),
    rt,
  );
  assert.equal(choice.provider, 'cpu');
  assert.equal(choice.precision, 'int8');
  assert.deepEqual(choice.skipped, [
    { provider: 'webgpu', reason: 'Failed to get a WebGPU adapter: No supported adapters' },
  ]);
  assert.deepEqual(rt.loaded, [['cpu', 'int8.onnx']]);
  assert.match(logs.join('\n'), /webgpu unavailable \(Failed to get a WebGPU adapter/);
});

test('with an adapter, WebGPU is chosen and keeps fp32; without an int8 copy the CPU runs fp32', async () => {
  const gpu = fakeRuntime([]);
  const onGpu = await createSessionWithFallback(
    backboneModelFor('fp32.onnx', 'int8.onnx'),
    ['webgpu', 'cpu'],
    undefined,
    gpu,
  );
  assert.deepEqual([onGpu.provider, onGpu.precision, onGpu.skipped], ['webgpu', 'fp32', []]);
  assert.deepEqual(gpu.loaded, [['webgpu', 'fp32.onnx']]);
  const cpu = await createSessionWithFallback(
    backboneModelFor('fp32.onnx', null),
    ['cpu'],
    undefined,
    fakeRuntime([]),
  );
  assert.equal(cpu.precision, 'fp32');
});

test('a provider the runtime reports unavailable is skipped without asking it', async () => {
  const rt = {
    ...fakeRuntime([]),
    unavailable: (p: ProviderName) => (p === 'cuda' ? 'CUDA libraries not installed' : null),
  };
  const choice = await createSessionWithFallback('m.onnx', ['cuda', 'webgpu', 'cpu'], undefined, rt);
  assert.equal(choice.provider, 'webgpu');
  assert.deepEqual(choice.skipped, [{ provider: 'cuda', reason: 'CUDA libraries not installed' }]);
  assert.deepEqual(rt.loaded, [['webgpu', 'm.onnx']]);
});

test('every provider failing is one clear error naming each reason', async () => {
  await assert.rejects(
    createSessionWithFallback('m.onnx', ['webgpu', 'cpu'], undefined, fakeRuntime(['webgpu', 'cpu'])),
    /webgpu: Failed to get a WebGPU adapter: No supported adapters; cpu: Failed to get a WebGPU adapter/,
  );
});

test('describeAccelerator: provider, precision, batch and every skipped provider with its reason', () => {
  const line = describeAccelerator('cpu', {
    provider: 'cpu',
    precision: 'int8',
    adapter: null,
    batchSize: 8,
    skipped: [{ provider: 'webgpu', reason: 'Failed to get a WebGPU adapter: No supported adapters' }],
  });
  assert.equal(
    line,
    'cpu (int8; batch 8; webgpu skipped: Failed to get a WebGPU adapter: No supported adapters)',
  );
  assert.equal(describeAccelerator(null, null), 'no runtime');
});

test('errorReason keeps the useful line of an ORT error', () => {
  assert.equal(
    errorReason(new Error(ADAPTER_ERROR)),
    'Failed to get a WebGPU adapter: No supported adapters',
  );
  assert.equal(errorReason(new Error('plain message\nmore')), 'plain message');
});

/** y = relu(x), float [n, 4]: enough for a real session. */
function tinyModel(): Uint8Array {
  const g = new GraphBuilder();
  g.node('Relu', ['x'], undefined, 'y');
  return encodeOnnxModel({
    producer: 'test',
    producerVersion: '1',
    opset: 17,
    graph: {
      name: 'tiny',
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: 'x', type: DataType.FLOAT, shape: ['n', 4] }],
      outputs: [{ name: 'y', type: DataType.FLOAT, shape: ['n', 4] }],
    },
  });
}

test('a real ONNX Runtime session asked for WebGPU falls back cleanly where there is no adapter', async () => {
  // Ask ORT itself (skipping the Vulkan-loader pre-check), so its own refusal is what falls back.
  const rt: OrtRuntime = { ...ortRuntime, unavailable: () => null };
  const choice = await createSessionWithFallback(tinyModel(), ['webgpu', 'cpu'], undefined, rt);
  try {
    if (choice.provider === 'webgpu') {
      assert.deepEqual(choice.skipped, []); // a machine with a GPU: WebGPU itself works
    } else {
      assert.equal(choice.provider, 'cpu');
      assert.equal(choice.skipped[0].provider, 'webgpu');
      assert.match(choice.skipped[0].reason, /adapter|webgpu|vulkan/i);
      assert.doesNotMatch(choice.skipped[0].reason, /onnxruntime_src/);
    }
    const { Tensor } = await import('onnxruntime-node');
    const out = await choice.session.run({ x: new Tensor('float32', Float32Array.of(-1, 2, -3, 4), [1, 4]) });
    assert.deepEqual([...(out.y.data as Float32Array)], [0, 2, 0, 4]);
  } finally {
    await choice.session.release();
  }
});
