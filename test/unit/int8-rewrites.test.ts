/**
 * The float rewrites the int8 build applies before calibrating (quantize-qdq.ts) compute what the
 * graph computed: the pool moved behind its 1×1 convolution (borders included: count_include_pad = 0)
 * and the channels-last heads, each run in ONNX Runtime against the original.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { makeRng } from '../../src-main/engine/finetune/rng';
import {
  DataType,
  GraphBuilder,
  encodeOnnxModel,
  type OnnxModelSpec,
} from '../../src-main/engine/model/onnx-writer';
import { channelsLastHeads, poolsAfterConvs } from '../../src-main/model-build/quantize-qdq';

const [N, C, H, W, K] = [2, 4, 5, 7, 3];
const rng = makeRng(7);
const random = (n: number) => Float32Array.from({ length: n }, () => rng() * 2 - 1);

function model(g: GraphBuilder, outputs: { name: string; shape: number[] }[]): OnnxModelSpec {
  return {
    producer: 'test',
    producerVersion: '1',
    opset: 17,
    graph: {
      name: 'g',
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: 'x', type: DataType.FLOAT, shape: [N, C, H, W] }],
      outputs: outputs.map((o) => ({ ...o, type: DataType.FLOAT })),
    },
  };
}

async function maxDifference(a: OnnxModelSpec, b: OnnxModelSpec): Promise<number> {
  const x = new ort.Tensor('float32', random(N * C * H * W), [N, C, H, W]);
  const run = async (m: OnnxModelSpec) => (await ort.InferenceSession.create(encodeOnnxModel(m))).run({ x });
  const [ra, rb] = [await run(a), await run(b)];
  let worst = 0;
  for (const o of a.graph.outputs) {
    const [da, db] = [ra[o.name].data as Float32Array, rb[o.name].data as Float32Array];
    da.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - db[i]))));
  }
  return worst;
}

test('poolsAfterConvs: Conv → AveragePool → Relu equals AveragePool → Conv → Relu, borders included', async () => {
  const g = new GraphBuilder();
  const p = g.node(
    'AveragePool',
    ['x'],
    { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] },
    'pool',
  );
  const c = g.node(
    'Conv',
    [p, g.constFloat('w', [K, C, 1, 1], random(K * C)), g.constFloat('b', [K], random(K))],
    {
      kernel_shape: [1, 1],
    },
  );
  g.node('Relu', [c], undefined, 'y');
  const original = model(g, [{ name: 'y', shape: [N, K, H, W] }]);
  const moved = poolsAfterConvs(original);
  assert.deepEqual(
    moved.graph.nodes.map((n) => n.op),
    ['Conv', 'AveragePool', 'Relu'],
  );
  assert.ok((await maxDifference(original, moved)) < 1e-6);
});

test('channelsLastHeads: the SPoC/MAC/GeM heads read an NHWC transpose and give the same vectors', async () => {
  const g = new GraphBuilder();
  const axes = { axes: [2, 3], keepdims: 0 };
  g.node('ReduceMean', ['x'], axes, 'spoc');
  g.node('ReduceMax', ['x'], axes, 'mac');
  const clipped = g.node('Clip', ['x', g.constFloat('eps', [], [1e-6])]);
  const cubed = g.node('Pow', [clipped, g.constFloat('p', [], [3])]);
  g.node('Pow', [g.node('ReduceMean', [cubed], axes), g.constFloat('inv_p', [], [1 / 3])], undefined, 'gem');
  // the map is a node's output in a backbone; here an Identity of the input stands for it
  g.nodes.forEach((n) => (n.inputs = n.inputs.map((i) => (i === 'x' ? 'fmap' : i))));
  g.nodes.unshift({ op: 'Identity', inputs: ['x'], outputs: ['fmap'], name: 'fmap' });
  const heads = ['spoc', 'mac', 'gem'].map((name) => ({ name, shape: [N, C] }));
  const original = model(g, heads);
  const nhwc = channelsLastHeads(original, 'fmap');
  assert.equal(nhwc.graph.nodes.filter((n) => n.op === 'Transpose').length, 1);
  assert.ok((await maxDifference(original, nhwc)) < 1e-6);
});
