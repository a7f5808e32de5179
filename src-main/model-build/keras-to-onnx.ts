/**
 * Converts a Keras layers model (channels-last) into an ONNX backbone (channels-first) cut at a
 * tap layer, ending in the three CGD pooled descriptors of that feature map:
 *   spoc = mean, mac = max, gem = (mean(max(x, 1e-6)^3))^(1/3)       (each N × C)
 * Batch norm is folded into the preceding convolution; explicit zero padding into the next one.
 * Spatial size is left dynamic (every 'same' padding used by these models is size-independent or
 * expressed as SAME_UPPER), so the backbone accepts any input resolution.
 */
import type { KerasLayer, KerasModel } from './nsfwjs-source';
import { CONVERTER_VERSION, type BackboneSpec } from '../engine/model/model-spec';
import { DataType, GraphBuilder, encodeOnnxModel, type OnnxModelSpec } from '../engine/model/onnx-writer';

export interface Preprocess {
  /** the network input is pixel (0..255) × scale + offset, per channel in RGB order */
  scale: number;
  offset: number;
}

export interface ConvertOptions {
  tap: string;
  /** nominal input size, for the FLOP count only (the graph accepts any size) */
  inputSize: number;
  preprocess: Preprocess;
  gemP?: number;
  producerVersion: string;
}

export interface ConvertedBackbone {
  bytes: Uint8Array;
  channels: number;
  /** output stride of the tap (input pixels per feature-map cell) */
  stride: number;
  /** multiply-adds ×2 of one image at the nominal input size (convolutions only) */
  flops: number;
}

/** The converter's options for a backbone spec (the fp32 build and the int8 build must agree). */
export function convertOptionsFor(spec: BackboneSpec): ConvertOptions {
  return {
    tap: spec.tap,
    inputSize: spec.inputSize,
    preprocess: spec.preprocess,
    gemP: spec.gemP,
    producerVersion: String(CONVERTER_VERSION),
  };
}

export const BACKBONE_INPUT = 'pixels';
export const BACKBONE_OUTPUTS = { S: 'spoc', M: 'mac', G: 'gem' } as const;
export const OPSET = 17;

type Cfg = Record<string, unknown>;
const num2 = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1]] : [v as number, v as number]);

export class ConversionError extends Error {
  override name = 'ConversionError';
}

function inboundNames(l: KerasLayer): string[] {
  if (!l.inbound_nodes.length) return [];
  if (l.inbound_nodes.length > 1) throw new ConversionError(`layer ${l.name} is shared; not supported`);
  return l.inbound_nodes[0].map((n) => n[0]);
}

/** Keras HWIO kernel → ONNX OIHW. */
function transposeKernel(k: Float32Array, [kh, kw, cin, cout]: number[]): Float32Array {
  const out = new Float32Array(k.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          out[((o * cin + i) * kh + h) * kw + w] = k[((h * kw + w) * cin + i) * cout + o];
  return out;
}

/** Keras depthwise kernel [kh, kw, cin, mult] → ONNX grouped conv [cin·mult, 1, kh, kw]. */
function transposeDepthwise(k: Float32Array, [kh, kw, cin, mult]: number[]): Float32Array {
  const out = new Float32Array(k.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let i = 0; i < cin; i++)
        for (let m = 0; m < mult; m++)
          out[((i * mult + m) * kh + h) * kw + w] = k[((h * kw + w) * cin + i) * mult + m];
  return out;
}

/** ONNX padding attributes for a Keras padding mode; `extra` holds folded ZeroPadding2D pads. */
function padAttrs(
  mode: unknown,
  kernel: [number, number],
  strides: [number, number],
  extra: number[] | null,
): Record<string, number[] | string> {
  if (mode === 'valid') return { pads: extra ?? [0, 0, 0, 0] };
  if (mode !== 'same') throw new ConversionError(`padding ${String(mode)} not supported`);
  if (extra) throw new ConversionError('same padding after ZeroPadding2D not supported');
  if (strides[0] === 1 && strides[1] === 1) {
    // Stride 1: TF's "same" pads (k−1) split with the extra cell at the end; size-independent.
    const [kh, kw] = kernel;
    return {
      pads: [
        Math.floor((kh - 1) / 2),
        Math.floor((kw - 1) / 2),
        Math.ceil((kh - 1) / 2),
        Math.ceil((kw - 1) / 2),
      ],
    };
  }
  return { auto_pad: 'SAME_UPPER' };
}

export function kerasToOnnx(model: KerasModel, opts: ConvertOptions): ConvertedBackbone {
  const { spec, ...rest } = kerasToGraph(model, opts);
  return { bytes: encodeOnnxModel(spec), ...rest };
}

/** The converted graph before serialisation (the int8 build rewrites it: model-build/quantize-qdq.ts). */
export function kerasToGraph(
  model: KerasModel,
  opts: ConvertOptions,
): Omit<ConvertedBackbone, 'bytes'> & { spec: OnnxModelSpec } {
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  if (!byName.has(opts.tap))
    throw new ConversionError(`tap layer "${opts.tap}" is not in ${model.source.model}`);

  // Only the layers the tap depends on.
  const needed = new Set<string>();
  const stack = [opts.tap];
  while (stack.length) {
    const n = stack.pop()!;
    if (needed.has(n)) continue;
    needed.add(n);
    const layer = byName.get(n);
    if (!layer) throw new ConversionError(`layer ${n} referenced but missing`);
    stack.push(...inboundNames(layer));
  }
  const layers = model.layers.filter((l) => needed.has(l.name));
  const consumers = new Map<string, KerasLayer[]>();
  for (const l of layers) for (const i of inboundNames(l)) consumers.set(i, [...(consumers.get(i) ?? []), l]);

  const weight = (name: string) => {
    const w = model.weights.get(name);
    if (!w) throw new ConversionError(`weight ${name} missing from the model's shards`);
    return w;
  };

  const g = new GraphBuilder();
  const tensorOf = new Map<string, string>(); // keras layer → onnx tensor
  const pendingPad = new Map<string, { input: string; pads: number[] }>();
  const channelsOf = new Map<string, number>();
  const strideOf = new Map<string, number>();
  const folded = new Set<string>();
  const hwOf = new Map<string, [number, number]>(); // spatial size at the nominal input, for FLOPs
  let flops = 0;
  const outSize = (
    hw: [number, number],
    k: [number, number],
    st: [number, number],
    mode: unknown,
    pads: number[] | null,
  ): [number, number] =>
    mode === 'same'
      ? [Math.ceil(hw[0] / st[0]), Math.ceil(hw[1] / st[1])]
      : [
          Math.floor((hw[0] + (pads ? pads[0] + pads[2] : 0) - k[0]) / st[0]) + 1,
          Math.floor((hw[1] + (pads ? pads[1] + pads[3] : 0) - k[1]) / st[1]) + 1,
        ];

  for (const l of layers) {
    const c = l.config as Cfg;
    const ins = inboundNames(l);
    const in0 = ins[0];
    const x = () => {
      const t = tensorOf.get(in0);
      if (!t) throw new ConversionError(`input ${in0} of ${l.name} not converted`);
      return t;
    };
    const inStride = strideOf.get(in0) ?? 1;
    const inHW = hwOf.get(in0) ?? [opts.inputSize, opts.inputSize];
    hwOf.set(l.name, inHW);
    switch (l.class_name) {
      case 'InputLayer': {
        // uint8 NHWC pixels straight from the decoder → float NCHW in the network's range.
        const f = g.node('Cast', [BACKBONE_INPUT], { to: DataType.FLOAT });
        const t = g.node('Transpose', [f], { perm: [0, 3, 1, 2] });
        const s = g.node('Mul', [t, g.constFloat('pre_scale', [], [opts.preprocess.scale])]);
        const o = g.node(
          'Add',
          [s, g.constFloat('pre_offset', [], [opts.preprocess.offset])],
          undefined,
          l.name,
        );
        tensorOf.set(l.name, o);
        channelsOf.set(l.name, 3);
        strideOf.set(l.name, 1);
        break;
      }
      case 'ZeroPadding2D': {
        const [[t, b], [left, r]] = c.padding as number[][];
        const users = consumers.get(l.name) ?? [];
        if (
          users.length === 1 &&
          /Conv2D|Pooling2D/.test(users[0].class_name) &&
          users[0].config.padding === 'valid'
        ) {
          pendingPad.set(l.name, { input: x(), pads: [t, left, b, r] });
          tensorOf.set(l.name, `${l.name}:pending`);
        } else {
          const pads = g.constInt64(`${l.name}_pads`, [0, 0, t, left, 0, 0, b, r]);
          tensorOf.set(l.name, g.node('Pad', [x(), pads], undefined, l.name));
        }
        channelsOf.set(l.name, channelsOf.get(in0)!);
        strideOf.set(l.name, inStride);
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const depthwise = l.class_name === 'DepthwiseConv2D';
        const kernelW = weight(`${l.name}/${depthwise ? 'depthwise_kernel' : 'kernel'}`);
        const [kh, kw, cin, last] = kernelW.shape;
        const cout = depthwise ? cin * last : last;
        let w = depthwise
          ? transposeDepthwise(kernelW.data, kernelW.shape)
          : transposeKernel(kernelW.data, kernelW.shape);
        let bias = c.use_bias ? Float32Array.from(weight(`${l.name}/bias`).data) : new Float32Array(cout);
        const dil = num2(c.dilation_rate ?? 1);
        if (dil[0] !== 1 || dil[1] !== 1) throw new ConversionError(`${l.name}: dilation not supported`);

        // Fold a following BatchNormalization: y = γ(x−μ)/√(σ²+ε) + β.
        const users = consumers.get(l.name) ?? [];
        const bn = users.length === 1 && users[0].class_name === 'BatchNormalization' ? users[0] : null;
        if (bn && c.activation && c.activation !== 'linear')
          throw new ConversionError(`${l.name}: activation before BN`);
        if (bn) {
          const bc = bn.config as Cfg;
          const eps = (bc.epsilon as number) ?? 1e-3;
          const mean = weight(`${bn.name}/moving_mean`).data;
          const variance = weight(`${bn.name}/moving_variance`).data;
          const gamma = bc.scale === false ? null : weight(`${bn.name}/gamma`).data;
          const beta = bc.center === false ? null : weight(`${bn.name}/beta`).data;
          const per = w.length / cout;
          w = Float32Array.from(w);
          bias = Float32Array.from(bias);
          for (let o = 0; o < cout; o++) {
            const k = (gamma ? gamma[o] : 1) / Math.sqrt(variance[o] + eps);
            for (let j = 0; j < per; j++) w[o * per + j] *= k;
            bias[o] = (bias[o] - mean[o]) * k + (beta ? beta[o] : 0);
          }
          folded.add(bn.name);
        }

        const pending = pendingPad.get(in0);
        const input = pending ? pending.input : x();
        const strides = num2(c.strides);
        const attrs: Record<string, number | number[] | string> = {
          kernel_shape: [kh, kw],
          strides: [strides[0], strides[1]],
          ...padAttrs(c.padding, [kh, kw], strides, pending?.pads ?? null),
        };
        if (depthwise) attrs.group = cin;
        const wName = g.constFloat(`${l.name}_W`, [cout, depthwise ? 1 : cin, kh, kw], w);
        const bName = g.constFloat(`${l.name}_B`, [cout], bias);
        let out = g.node('Conv', [input, wName, bName], attrs, bn ? bn.name : l.name);
        if (c.activation === 'relu') out = g.node('Relu', [out]);
        else if (c.activation && c.activation !== 'linear')
          throw new ConversionError(`${l.name}: activation ${c.activation}`);
        const hw = outSize(inHW, [kh, kw], strides, c.padding, pending?.pads ?? null);
        flops += 2 * hw[0] * hw[1] * cout * kh * kw * (depthwise ? 1 : cin);
        for (const name of bn ? [l.name, bn.name] : [l.name]) {
          hwOf.set(name, hw);
          tensorOf.set(name, out);
          channelsOf.set(name, cout);
          strideOf.set(name, inStride * strides[0]);
        }
        break;
      }
      case 'BatchNormalization': {
        if (folded.has(l.name)) break;
        throw new ConversionError(`${l.name}: batch norm not preceded by a convolution is not supported`);
      }
      case 'Activation': {
        if (c.activation === 'relu') tensorOf.set(l.name, g.node('Relu', [x()], undefined, l.name));
        else if (c.activation === 'linear') tensorOf.set(l.name, x());
        else throw new ConversionError(`${l.name}: activation ${String(c.activation)} not supported`);
        channelsOf.set(l.name, channelsOf.get(in0)!);
        strideOf.set(l.name, inStride);
        break;
      }
      case 'ReLU': {
        if ((c.negative_slope as number) || (c.threshold as number))
          throw new ConversionError(`${l.name}: leaky ReLU`);
        const max = c.max_value as number | null;
        const out =
          max == null
            ? g.node('Relu', [x()], undefined, l.name)
            : g.node(
                'Clip',
                [x(), g.constFloat(`${l.name}_lo`, [], [0]), g.constFloat(`${l.name}_hi`, [], [max])],
                undefined,
                l.name,
              );
        tensorOf.set(l.name, out);
        channelsOf.set(l.name, channelsOf.get(in0)!);
        strideOf.set(l.name, inStride);
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const k = num2(c.pool_size);
        const strides = num2(c.strides ?? c.pool_size);
        const pending = pendingPad.get(in0);
        const attrs = {
          kernel_shape: [...k],
          strides: [...strides],
          ...padAttrs(c.padding, k, strides, pending?.pads ?? null),
        };
        // ONNX AveragePool excludes padding by default (count_include_pad = 0), as TF does.
        const op = l.class_name === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool';
        tensorOf.set(l.name, g.node(op, [pending ? pending.input : x()], attrs, l.name));
        hwOf.set(l.name, outSize(inHW, k, strides, c.padding, pending?.pads ?? null));
        channelsOf.set(l.name, channelsOf.get(in0)!);
        strideOf.set(l.name, inStride * strides[0]);
        break;
      }
      case 'Concatenate': {
        const axis = c.axis as number;
        if (axis !== 3 && axis !== -1) throw new ConversionError(`${l.name}: concat axis ${axis}`);
        tensorOf.set(
          l.name,
          g.node(
            'Concat',
            ins.map((i) => tensorOf.get(i)!),
            { axis: 1 },
            l.name,
          ),
        );
        channelsOf.set(
          l.name,
          ins.reduce((a, i) => a + channelsOf.get(i)!, 0),
        );
        strideOf.set(l.name, inStride);
        break;
      }
      case 'Add': {
        let acc = tensorOf.get(ins[0])!;
        for (let i = 1; i < ins.length; i++)
          acc = g.node(
            'Add',
            [acc, tensorOf.get(ins[i])!],
            undefined,
            i === ins.length - 1 ? l.name : undefined,
          );
        tensorOf.set(l.name, acc);
        channelsOf.set(l.name, channelsOf.get(in0)!);
        strideOf.set(l.name, inStride);
        break;
      }
      default:
        throw new ConversionError(`${l.name}: layer type ${l.class_name} not supported below the tap`);
    }
  }

  // CGD's three global descriptors of the tapped map.
  const fmap = tensorOf.get(opts.tap)!;
  const axes = { axes: [2, 3], keepdims: 0 };
  g.node('ReduceMean', [fmap], axes, BACKBONE_OUTPUTS.S);
  g.node('ReduceMax', [fmap], axes, BACKBONE_OUTPUTS.M);
  const p = opts.gemP ?? 3;
  const clamped = g.node('Clip', [fmap, g.constFloat('gem_eps', [], [1e-6])]);
  const powered = g.node('Pow', [clamped, g.constFloat('gem_p', [], [p])]);
  const mean = g.node('ReduceMean', [powered], axes);
  g.node('Pow', [mean, g.constFloat('gem_inv_p', [], [1 / p])], undefined, BACKBONE_OUTPUTS.G);

  const channels = channelsOf.get(opts.tap)!;
  const spec: OnnxModelSpec = {
    producer: 'likeness-keras-to-onnx',
    producerVersion: opts.producerVersion,
    opset: OPSET,
    docString: `${model.source.model} from ${model.source.package}@${model.source.version}, tapped at ${opts.tap}`,
    graph: {
      name: `${model.source.model}_${opts.tap}_cgd_pool`,
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: BACKBONE_INPUT, type: DataType.UINT8, shape: ['batch', 'height', 'width', 3] }],
      outputs: Object.values(BACKBONE_OUTPUTS).map((name) => ({
        name,
        type: DataType.FLOAT,
        shape: ['batch', channels],
      })),
    },
  };
  return { spec, channels, stride: strideOf.get(opts.tap)!, flops };
}
