import type { HeadWeights } from './head-types';

/**
 * Serialises head weights for the `heads.weights` BLOB: a JSON header (shapes, combo) followed by the
 * raw float32 arrays, so big projection matrices do not go through JSON number formatting.
 */
export function encodeHead(h: HeadWeights): Buffer {
  const arrays: Float32Array[] = [];
  const header = {
    combo: h.combo,
    combine: h.combine,
    branches: h.branches.map((b) => {
      arrays.push(b.mean, b.weight);
      return {
        kind: b.kind,
        inDim: b.inDim,
        outDim: b.outDim,
        power: b.power,
        meanLen: b.mean.length,
        weightLen: b.weight.length,
      };
    }),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const pad = Buffer.alloc((4 - ((4 + json.length) % 4)) % 4);
  return Buffer.concat([
    len,
    json,
    pad,
    ...arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)),
  ]);
}

export function decodeHead(buf: Buffer): HeadWeights {
  const n = buf.readUInt32LE(0);
  const header = JSON.parse(buf.subarray(4, 4 + n).toString('utf8')) as {
    combo: string;
    combine: 'concat' | 'sum';
    branches: {
      kind: 'S' | 'M' | 'G';
      inDim: number;
      outDim: number;
      power: number;
      meanLen: number;
      weightLen: number;
    }[];
  };
  let off = 4 + n + ((4 - ((4 + n) % 4)) % 4);
  const take = (count: number): Float32Array => {
    const out = new Float32Array(count);
    Buffer.from(out.buffer).set(buf.subarray(off, off + count * 4));
    off += count * 4;
    return out;
  };
  return {
    combo: header.combo,
    combine: header.combine,
    branches: header.branches.map((b) => ({
      kind: b.kind,
      inDim: b.inDim,
      outDim: b.outDim,
      power: b.power,
      mean: take(b.meanLen),
      weight: take(b.weightLen),
    })),
  };
}
