/**
 * A minimal ONNX (protobuf) encoder: just the messages a feed-forward graph needs.
 * Writing the few fields ourselves avoids a protobuf runtime and generated code; ONNX Runtime
 * validates the result when it loads it. Field numbers follow onnx/onnx.proto.
 */

class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  private varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  private key(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number): this {
    this.key(field, 0);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.varint(value.length);
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    build(w);
    return this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;
export type ElemType = (typeof DataType)[keyof typeof DataType];

export type AttrValue = number | string | number[] | { floats: number[] } | { float: number };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: Record<string, AttrValue>;
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  type: ElemType;
  data: Float32Array | BigInt64Array | Uint8Array | Int8Array | Int32Array;
}

export interface OnnxValueInfo {
  name: string;
  type: ElemType;
  /** numbers are fixed sizes, strings are symbolic (dynamic) dimensions */
  shape: (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModelSpec {
  graph: OnnxGraph;
  opset: number;
  producer: string;
  producerVersion: string;
  docString?: string;
  metadata?: Record<string, string>;
}

const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

function writeAttribute(w: ProtoWriter, name: string, value: AttrValue): void {
  w.string(1, name);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: use {float: x} for non-integers`);
    w.int(3, value).int(20, ATTR.INT);
  } else if (typeof value === 'string') {
    w.string(4, value).int(20, ATTR.STRING);
  } else if (Array.isArray(value)) {
    for (const v of value) w.int(8, v);
    w.int(20, ATTR.INTS);
  } else if ('floats' in value) {
    for (const v of value.floats) w.float(7, v);
    w.int(20, ATTR.FLOATS);
  } else {
    w.float(2, value.float).int(20, ATTR.FLOAT);
  }
}

function writeTensor(w: ProtoWriter, t: OnnxTensor): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.type);
  w.string(8, t.name);
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.type);
      tensor.message(2, (shape) => {
        for (const d of v.shape) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

function writeGraph(w: ProtoWriter, g: OnnxGraph): void {
  g.nodes.forEach((n, i) =>
    w.message(1, (node) => {
      for (const x of n.inputs) node.string(1, x);
      for (const x of n.outputs) node.string(2, x);
      node.string(3, n.name ?? `${n.op}_${i}`);
      node.string(4, n.op);
      for (const [k, v] of Object.entries(n.attrs ?? {})) node.message(5, (a) => writeAttribute(a, k, v));
    }),
  );
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (x) => writeTensor(x, t));
  for (const v of g.inputs) w.message(11, (x) => writeValueInfo(x, v));
  for (const v of g.outputs) w.message(12, (x) => writeValueInfo(x, v));
}

/** Serialises a model to ONNX protobuf bytes (IR version 8). */
export function encodeOnnxModel(spec: OnnxModelSpec): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, 8); // ir_version
  w.string(2, spec.producer);
  w.string(3, spec.producerVersion);
  if (spec.docString) w.string(6, spec.docString);
  w.message(7, (g) => writeGraph(g, spec.graph));
  w.message(8, (o) => o.string(1, '').int(2, spec.opset));
  for (const [k, v] of Object.entries(spec.metadata ?? {})) w.message(14, (m) => m.string(1, k).string(2, v));
  return w.finish();
}

/** Helper for building graphs: unique names and initializers in one place. */
export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private counter = 0;

  fresh(prefix: string): string {
    return `${prefix}__${this.counter++}`;
  }

  node(
    op: string,
    inputs: string[],
    attrs?: Record<string, AttrValue>,
    output?: string,
    name?: string,
  ): string {
    const out = output ?? this.fresh(op.toLowerCase());
    this.nodes.push({ op, inputs, outputs: [out], attrs, name: name ?? out });
    return out;
  }

  constFloat(name: string, dims: number[], data: Float32Array | number[]): string {
    const arr = data instanceof Float32Array ? data : Float32Array.from(data);
    this.initializers.push({ name, dims, type: DataType.FLOAT, data: arr });
    return name;
  }

  constInt64(name: string, values: number[]): string {
    this.initializers.push({
      name,
      dims: [values.length],
      type: DataType.INT64,
      data: BigInt64Array.from(values.map((v) => BigInt(v))),
    });
    return name;
  }
}
