/**
 * Static QDQ int8 quantisation of a converted backbone graph, written with the project's own ONNX
 * writer: per-output-channel symmetric int8 weights, int32 biases, and uint8 activations with one
 * calibrated range per tensor. Q/DQ pairs sit where ONNX Runtime's QDQ fusions look for them
 * (DQ → Conv → Q becomes QLinearConv, DQ → MaxPool → Q with equal scales is dropped, Concat and
 * AveragePool get their QLinear forms), so the CPU runs integer kernels (VNNI where the CPU has it).
 *
 * Calibrated tensors are the ReLU outputs and the network input; every other activation takes its
 * range from its inputs (pooling keeps its input's, a concat spans its inputs'), so no range is
 * guessed and MaxPool's equal-scale rule holds by construction.
 */
import { DataType, type OnnxModelSpec, type OnnxNode, type OnnxTensor } from '../engine/model/onnx-writer';

export interface Range {
  min: number;
  max: number;
}

interface QParams {
  scale: number;
  zeroPoint: number;
}

const PASS_THROUGH = new Set(['MaxPool', 'AveragePool']);

/** Tensors whose range must be measured: ReLU outputs and the float input of the first convolutions. */
export function calibrationTensors(spec: OnnxModelSpec): string[] {
  const produced = new Map<string, OnnxNode>();
  for (const n of spec.graph.nodes) for (const o of n.outputs) produced.set(o, n);
  const out = new Set<string>();
  for (const n of spec.graph.nodes) {
    if (n.op === 'Relu') out.add(n.outputs[0]);
    if (n.op === 'Conv') {
      const p = produced.get(n.inputs[0]);
      if (p && !['Relu', 'Concat', ...PASS_THROUGH].includes(p.op)) out.add(n.inputs[0]);
    }
  }
  return [...out];
}

/** The graph with the calibration tensors as extra float outputs. */
export function withCalibrationOutputs(spec: OnnxModelSpec, tensors: string[]): OnnxModelSpec {
  return {
    ...spec,
    graph: {
      ...spec.graph,
      outputs: [
        ...spec.graph.outputs,
        ...tensors.map((name, i) => ({
          name,
          type: DataType.FLOAT,
          shape: ['batch', `c${i}`, `h${i}`, `w${i}`],
        })),
      ],
    },
  };
}

function uint8Params({ min, max }: Range): QParams {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  return { scale, zeroPoint: Math.max(0, Math.min(255, Math.round(-lo / scale))) };
}

function initializer(spec: OnnxModelSpec, name: string): OnnxTensor {
  const t = spec.graph.initializers.find((i) => i.name === name);
  if (!t) throw new Error(`initializer ${name} not found`);
  return t;
}

/**
 * Rewrites `spec` into its QDQ int8 form. `ranges` holds a range for every tensor named by
 * calibrationTensors(spec); the outputs stay float.
 */
export function quantizeQdq(spec: OnnxModelSpec, ranges: Map<string, Range>): OnnxModelSpec {
  const { graph } = spec;
  const params = new Map<string, QParams>();
  // Ranges of activations, in graph (topological) order.
  const rangeOf = new Map(ranges);
  for (const n of graph.nodes) {
    const out = n.outputs[0];
    if (PASS_THROUGH.has(n.op) && rangeOf.has(n.inputs[0])) rangeOf.set(out, rangeOf.get(n.inputs[0])!);
    if (n.op === 'Concat' && n.inputs.every((i) => rangeOf.has(i))) {
      const rs = n.inputs.map((i) => rangeOf.get(i)!);
      rangeOf.set(out, { min: Math.min(...rs.map((r) => r.min)), max: Math.max(...rs.map((r) => r.max)) });
    }
  }
  for (const [t, r] of rangeOf) params.set(t, uint8Params(r));
  // A pooling output shares its input's Q parameters exactly (ORT drops the Q/DQ around MaxPool only then).
  for (const n of graph.nodes)
    if (PASS_THROUGH.has(n.op) && params.has(n.inputs[0])) params.set(n.outputs[0], params.get(n.inputs[0])!);
  for (const t of calibrationTensors(spec))
    if (!ranges.has(t)) throw new Error(`no calibration range for tensor ${t}`);

  const keep = new Map(graph.initializers.map((t) => [t.name, t]));
  const inits: OnnxTensor[] = [];
  const nodes: OnnxNode[] = [];
  const scalarF = (name: string, v: number) => {
    inits.push({ name, dims: [], type: DataType.FLOAT, data: Float32Array.of(v) });
    return name;
  };
  const dq = (x: string) => (params.has(x) ? `${x}__dq` : x);
  /** Replaces a float initializer by its per-output-channel quantised form and a DequantizeLinear. */
  const perChannel = (
    t: OnnxTensor,
    q: Int8Array | Int32Array,
    scale: Float32Array,
    type: typeof DataType.INT8 | typeof DataType.INT32,
    zp: Int8Array | Int32Array,
  ): string => {
    keep.delete(t.name);
    inits.push(
      { name: `${t.name}_q`, dims: t.dims, type, data: q },
      { name: `${t.name}_scale`, dims: [scale.length], type: DataType.FLOAT, data: scale },
      { name: `${t.name}_zp`, dims: [scale.length], type, data: zp },
    );
    nodes.push({
      op: 'DequantizeLinear',
      inputs: [`${t.name}_q`, `${t.name}_scale`, `${t.name}_zp`],
      outputs: [`${t.name}__dq`],
      attrs: { axis: 0 },
    });
    return `${t.name}__dq`;
  };

  for (const n of graph.nodes) {
    // AveragePool reads the float tensor: ORT's QLinearAveragePool is ~8× slower than the float
    // kernel (measured), and a float input keeps ORT from fusing DQ → AveragePool → Q into it.
    const inputs = n.op === 'AveragePool' ? [...n.inputs] : n.inputs.map(dq);
    if (n.op === 'Conv') {
      const x = n.inputs[0];
      const px = params.get(x);
      if (!px) throw new Error(`convolution ${n.name} has an unquantised input ${x}`);
      const w = initializer(spec, n.inputs[1]);
      const b = n.inputs[2] ? initializer(spec, n.inputs[2]) : null;
      const cout = w.dims[0];
      const per = w.data.length / cout;
      const wf = w.data as Float32Array;
      const wq = new Int8Array(wf.length);
      const ws = new Float32Array(cout);
      for (let o = 0; o < cout; o++) {
        let m = 0;
        for (let j = 0; j < per; j++) m = Math.max(m, Math.abs(wf[o * per + j]));
        ws[o] = m > 0 ? m / 127 : 1;
        for (let j = 0; j < per; j++)
          wq[o * per + j] = Math.max(-127, Math.min(127, Math.round(wf[o * per + j] / ws[o])));
      }
      inputs[1] = perChannel(w, wq, ws, DataType.INT8, new Int8Array(cout));
      if (b) {
        // Bias in int32 at scale input × weight (what QLinearConv adds to its accumulator).
        const bf = b.data as Float32Array;
        const bs = Float32Array.from(ws, (s) => s * px.scale);
        const bq = Int32Array.from(bf, (v, o) =>
          Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(v / bs[o]))),
        );
        inputs[2] = perChannel(b, bq, bs, DataType.INT32, new Int32Array(cout));
      }
    }
    nodes.push({ ...n, inputs });
    for (const out of n.outputs) {
      const p = params.get(out);
      if (!p) continue;
      const s = scalarF(`${out}__scale`, p.scale);
      const zp = `${out}__zp`;
      inits.push({ name: zp, dims: [], type: DataType.UINT8, data: Uint8Array.of(p.zeroPoint) });
      nodes.push({ op: 'QuantizeLinear', inputs: [out, s, zp], outputs: [`${out}__q`] });
      nodes.push({ op: 'DequantizeLinear', inputs: [`${out}__q`, s, zp], outputs: [`${out}__dq`] });
    }
  }
  return {
    ...spec,
    producer: `${spec.producer}+qdq-int8`,
    graph: { ...graph, nodes, initializers: [...keep.values(), ...inits] },
  };
}
