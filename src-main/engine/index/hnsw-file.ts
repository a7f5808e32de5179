/**
 * Reads the base layer of a graph saved by hnswlib (HierarchicalNSW::saveIndex): for every element its
 * label, deleted flag, vector and neighbour list. The base layer is an approximate k-NN graph of the
 * library, so scans that need every photo's near neighbours (duplicates) read it instead of running one
 * search per photo.
 *
 * Layout (hnswlib 0.8, little-endian): 13 header fields, then `count` fixed-size blocks of
 *   uint16 linkCount · uint8 flags (bit 0: deleted) · uint8 · maxM0 × uint32 neighbour · dim × float32 · uint64 label
 */
const HEADER_BYTES = 8 * 6 + 4 + 4 + 8 * 3 + 8 + 8;
const DELETE_MARK = 0x01;

export interface HnswBaseLayer {
  count: number;
  dim: number;
  /** label (photo id) of element i */
  label(i: number): number;
  deleted(i: number): boolean;
  /** element i's vector (a view into the file's bytes) */
  vector(i: number): Float32Array;
  /** internal indices of element i's base-layer neighbours */
  neighbours(i: number): Uint32Array;
}

export function readHnswBaseLayer(bytes: Buffer, dim: number): HnswBaseLayer {
  if (bytes.length < HEADER_BYTES) throw new Error('HNSW file too short for its header');
  const u64 = (off: number) => Number(bytes.readBigUInt64LE(off));
  const offsetLevel0 = u64(0);
  const count = u64(16);
  const sizePerElement = u64(24);
  const labelOffset = u64(32);
  const offsetData = u64(40);
  const maxM0 = u64(64);
  if (offsetLevel0 !== 0 || labelOffset - offsetData !== dim * 4 || offsetData !== 4 + 4 * maxM0)
    throw new Error(`HNSW file layout not understood (dim ${dim}, maxM0 ${maxM0})`);
  if (sizePerElement !== labelOffset + 8 || HEADER_BYTES + count * sizePerElement > bytes.length)
    throw new Error('HNSW file is truncated');
  // Typed-array views need 4-byte alignment: the file's blocks are (header 96, block a multiple of 4).
  const aligned = (bytes.byteOffset + HEADER_BYTES) % 4 === 0 && sizePerElement % 4 === 0;
  const base = aligned ? bytes : Buffer.from(bytes);
  const at = (i: number) => HEADER_BYTES + i * sizePerElement;
  return {
    count,
    dim,
    label: (i) => Number(base.readBigUInt64LE(at(i) + labelOffset)),
    deleted: (i) => (base[at(i) + 2] & DELETE_MARK) !== 0,
    vector: (i) => new Float32Array(base.buffer, base.byteOffset + at(i) + offsetData, dim),
    neighbours: (i) => new Uint32Array(base.buffer, base.byteOffset + at(i) + 4, base.readUInt16LE(at(i))),
  };
}
