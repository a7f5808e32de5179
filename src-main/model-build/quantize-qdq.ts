/**
 * Static QDQ int8 quantisation of a converted backbone graph, written with the project's own ONNX
 * writer: per-output-channel int8 weights, int32 biases, and uint8 activations with one calibrated
 * range per tensor. Q/DQ pairs sit where ONNX Runtime's QDQ fusions look for them (DQ → Conv → Q
 * becomes QLinearConv, DQ → MaxPool → Q with equal scales is dropped, Concat and AveragePool get
 * their QLinear forms, a ReLU before a Q with zero point 0 is dropped), so that the whole backbone
 * runs as one chain of integer NHWC kernels: a float op inside it costs DQ, Q and layout transposes
 * (docs/model.md, "Where the int8 time goes").
 *
 * Calibrated tensors are the ReLU outputs, the network input and pre-pool convolution outputs; every
 * other activation takes its range from its inputs (pooling keeps its input's, a concat spans its
 * inputs'), so no range is guessed and MaxPool's equal-scale rule holds by construction.
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

/**
 * Weights are asymmetric (per-channel min–max) except for convolutions reading this many channels.
 * The choice picks ORT's kernel: all-zero weight zero points take its direct symmetric VNNI kernel,
 * any other im2col + QGEMM, 15–50% faster on every layer of this backbone but the stem's 3×3
 * convolutions on 32 channels at the highest resolution (docs/model.md, measured per layer).
 */
const SYMMETRIC_INPUT_CHANNELS = new Set([32]);

function consumersOf(spec: OnnxModelSpec): Map<string, OnnxNode[]> {
  const users = new Map<string, OnnxNode[]>();
  for (const n of spec.graph.nodes) for (const i of n.inputs) users.set(i, [...(users.get(i) ?? []), n]);
  return users;
}

/**
 * Moves each average pool behind the 1×1 convolution that follows it (Inception's pool branches):
 * AveragePool → Conv → Relu becomes Conv → AveragePool → Relu. Exact in real arithmetic — with
 * count_include_pad = 0 a window's weights sum to 1, so avg(W·x + b) = W·avg(x) + b — and the pool
 * then reads the convolution's 32–192 channels instead of the block's 192–768, in int8.
 */
export function poolsAfterConvs(spec: OnnxModelSpec): OnnxModelSpec {
  const users = consumersOf(spec);
  const nodes = [...spec.graph.nodes];
  const ones = (v: unknown, n: number) =>
    v === undefined || (Array.isArray(v) && v.length === n && v.every((x) => x === 1));
  spec.graph.nodes.forEach((pool, i) => {
    if (pool.op !== 'AveragePool' || pool.attrs?.count_include_pad) return;
    const [conv] = users.get(pool.outputs[0]) ?? [];
    if (users.get(pool.outputs[0])!.length !== 1 || conv.op !== 'Conv') return;
    const a = conv.attrs ?? {};
    if (!ones(a.kernel_shape, 2) || !ones(a.strides, 2) || (a.group ?? 1) !== 1) return;
    if ((a.pads as number[] | undefined)?.some((p) => p !== 0) || (a.auto_pad ?? 'NOTSET') !== 'NOTSET')
      return;
    const relu = users.get(conv.outputs[0]);
    if (relu?.length !== 1 || relu[0].op !== 'Relu') return;
    const j = nodes.indexOf(conv);
    nodes[i] = { ...conv, inputs: [pool.inputs[0], ...conv.inputs.slice(1)] };
    nodes[j] = { ...pool, inputs: [conv.outputs[0]] };
    nodes[nodes.indexOf(relu[0])] = { ...relu[0], inputs: [pool.outputs[0]] };
  });
  return { ...spec, graph: { ...spec.graph, nodes } };
}

const ELEMENTWISE = new Set(['Clip', 'Pow', 'Relu', 'Mul', 'Add']);

/**
 * The pooling heads read the feature map channels-last: a Transpose to NHWC, then reductions over
 * axes 1, 2. ORT runs the quantised convolutions NHWC, so that Transpose cancels the one its layout
 * pass puts after the last concat, instead of a transpose of the whole map before the heads.
 * Applies only when every path from the map goes through elementwise ops to a reduction over H, W.
 */
export function channelsLastHeads(spec: OnnxModelSpec, fmap: string): OnnxModelSpec {
  const users = consumersOf(spec);
  const changed = new Map<OnnxNode, OnnxNode>();
  const hw = (n: OnnxNode) => (n.attrs?.axes as number[] | undefined)?.join() === '2,3';
  const visit = (t: string): boolean =>
    (users.get(t) ?? []).every((n) => {
      if (changed.has(n)) return true;
      if (n.op.startsWith('Reduce') && hw(n))
        return changed.set(n, { ...n, attrs: { ...n.attrs, axes: [1, 2] } });
      // elementwise with scalar constants only, so that the layout does not matter
      if (
        !ELEMENTWISE.has(n.op) ||
        n.inputs
          .slice(1)
          .some((i) => !spec.graph.initializers.some((c) => c.name === i && c.dims.length === 0))
      )
        return false;
      changed.set(n, n);
      return visit(n.outputs[0]);
    });
  if (!visit(fmap)) return spec;
  const nhwc = `${fmap}__nhwc`;
  const nodes = spec.graph.nodes.flatMap((n) => {
    const m = changed.get(n) ?? n;
    const r = changed.has(n) ? { ...m, inputs: m.inputs.map((i) => (i === fmap ? nhwc : i)) } : m;
    return n.outputs.includes(fmap)
      ? [r, { op: 'Transpose', inputs: [fmap], outputs: [nhwc], attrs: { perm: [0, 2, 3, 1] } }]
      : [r];
  });
  return { ...spec, graph: { ...spec.graph, nodes } };
}

/**
 * Tensors whose range must be measured: ReLU outputs, the float input of the first convolutions and
 * convolution outputs that no ReLU follows (a pool branch's, after poolsAfterConvs).
 */
export function calibrationTensors(spec: OnnxModelSpec): string[] {
  const produced = new Map<string, OnnxNode>();
  for (const n of spec.graph.nodes) for (const o of n.outputs) produced.set(o, n);
  const users = consumersOf(spec);
  const out = new Set<string>();
  for (const n of spec.graph.nodes) {
    if (n.op === 'Relu') out.add(n.outputs[0]);
    if (n.op === 'Conv') {
      const p = produced.get(n.inputs[0]);
      if (p && !['Relu', 'Concat', ...PASS_THROUGH].includes(p.op)) out.add(n.inputs[0]);
      if (!(users.get(n.outputs[0]) ?? []).every((u) => u.op === 'Relu')) out.add(n.outputs[0]);
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
 * The converter's preprocessing, uint8 NHWC pixels → Cast → Transpose → × scale → + offset, when
 * offset / scale is a whole uint8: then it is exactly DequantizeLinear(pixels, scale, −offset/scale).
 */
function pixelsChain(spec: OnnxModelSpec) {
  const { graph } = spec;
  const users = consumersOf(spec);
  const only = (t: string, op: string) => {
    const u = users.get(t);
    return u?.length === 1 && u[0].op === op ? u[0] : null;
  };
  const scalar = (name: string) => {
    const t = graph.initializers.find((i) => i.name === name);
    return t && t.data.length === 1 ? Number(t.data[0]) : null;
  };
  const input = graph.inputs.find((i) => i.type === DataType.UINT8)?.name;
  const cast = input && only(input, 'Cast');
  const tr = cast && only(cast.outputs[0], 'Transpose');
  const mul = tr && (tr.attrs?.perm as number[]).join() === '0,3,1,2' && only(tr.outputs[0], 'Mul');
  const add = mul && only(mul.outputs[0], 'Add');
  if (!add) return null;
  const scale = scalar(mul.inputs[1]);
  const offset = scalar(add.inputs[1]);
  if (scale === null || offset === null || !(scale > 0)) return null;
  const zeroPoint = -offset / scale;
  if (!Number.isInteger(zeroPoint) || zeroPoint < 0 || zeroPoint > 255) return null;
  return { input: input!, output: add.outputs[0], scale, zeroPoint, nodes: new Set([cast, tr, mul, add]) };
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
  const users = consumersOf(spec);
  // A pool that a ReLU follows takes the ReLU's range instead (ORT then drops the ReLU into the Q).
  const passes = (n: OnnxNode) =>
    PASS_THROUGH.has(n.op) && !(users.get(n.outputs[0]) ?? []).some((u) => u.op === 'Relu');
  for (const n of graph.nodes) {
    const out = n.outputs[0];
    if (passes(n) && rangeOf.has(n.inputs[0])) rangeOf.set(out, rangeOf.get(n.inputs[0])!);
    if (n.op === 'Concat' && n.inputs.every((i) => rangeOf.has(i))) {
      const rs = n.inputs.map((i) => rangeOf.get(i)!);
      rangeOf.set(out, { min: Math.min(...rs.map((r) => r.min)), max: Math.max(...rs.map((r) => r.max)) });
    }
  }
  // A branch's ReLU quantises straight to its concat's range: one rounding instead of two, and
  // QLinearConcat copies an input whose scale and zero point equal its own instead of requantising it.
  const producer = new Map(graph.nodes.map((n) => [n.outputs[0], n]));
  for (const n of graph.nodes)
    if (n.op === 'Concat' && rangeOf.has(n.outputs[0]))
      for (const i of n.inputs)
        if (producer.get(i)?.op === 'Relu' && users.get(i)!.length === 1)
          rangeOf.set(i, rangeOf.get(n.outputs[0])!);
  const pixels = pixelsChain(spec);
  for (const [t, r] of rangeOf) params.set(t, uint8Params(r));
  // A pooling output shares its input's Q parameters exactly (ORT drops the Q/DQ around MaxPool only then).
  for (const n of graph.nodes)
    if (passes(n) && params.has(n.inputs[0])) params.set(n.outputs[0], params.get(n.inputs[0])!);
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

  if (pixels) {
    // uint8 pixels × scale + offset is their dequantisation: the first convolution reads them as they are.
    const { input, output, scale, zeroPoint } = pixels;
    params.set(output, { scale, zeroPoint });
    inits.push({ name: `${output}__zp`, dims: [], type: DataType.UINT8, data: Uint8Array.of(zeroPoint) });
    nodes.push(
      { op: 'Transpose', inputs: [input], outputs: [`${output}__t`], attrs: { perm: [0, 3, 1, 2] } },
      {
        op: 'DequantizeLinear',
        inputs: [`${output}__t`, scalarF(`${output}__scale`, scale), `${output}__zp`],
        outputs: [`${output}__dq`],
      },
    );
  }
  for (const n of graph.nodes) {
    if (pixels?.nodes.has(n)) continue;
    const inputs = n.inputs.map(dq);
    if (n.op === 'Conv') {
      const x = n.inputs[0];
      const px = params.get(x);
      if (!px) throw new Error(`convolution ${n.name} has an unquantised input ${x}`);
      const w = initializer(spec, n.inputs[1]);
      const b = n.inputs[2] ? initializer(spec, n.inputs[2]) : null;
      const [cout, cin] = w.dims;
      const per = w.data.length / cout;
      const wf = w.data as Float32Array;
      const wq = new Int8Array(wf.length);
      const ws = new Float32Array(cout);
      const wz = new Int8Array(cout);
      const symmetric = SYMMETRIC_INPUT_CHANNELS.has(cin);
      for (let o = 0; o < cout; o++) {
        const row = wf.subarray(o * per, (o + 1) * per);
        let lo = 0;
        let hi = 0;
        for (const v of row) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
        if (symmetric) hi = Math.max(hi, -lo);
        ws[o] = hi > lo ? (symmetric ? hi / 127 : (hi - lo) / 255) : 1;
        wz[o] = symmetric ? 0 : Math.max(-128, Math.min(127, Math.round(-128 - lo / ws[o])));
        for (let j = 0; j < per; j++)
          wq[o * per + j] = Math.max(
            symmetric ? -127 : -128,
            Math.min(127, Math.round(row[j] / ws[o]) + wz[o]),
          );
      }
      inputs[1] = perChannel(w, wq, ws, DataType.INT8, wz);
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
  const used = new Set(nodes.flatMap((n) => n.inputs));
  return {
    ...spec,
    producer: `${spec.producer}+qdq-int8`,
    graph: {
      ...graph,
      nodes,
      initializers: [...[...keep.values()].filter((t) => used.has(t.name)), ...inits],
    },
  };
}
