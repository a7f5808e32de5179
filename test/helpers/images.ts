import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';

export function tempDir(prefix = 'likeness-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A small synthetic photo: a colour field with a gradient and a block whose place depends on `seed`. */
export async function makePhoto(
  file: string,
  seed: number,
  opts: { size?: number; format?: 'jpeg' | 'png' | 'webp' } = {},
): Promise<void> {
  const size = opts.size ?? 64;
  const raw = Buffer.alloc(size * size * 3);
  const r0 = (seed * 97) % 256;
  const g0 = (seed * 57 + 80) % 256;
  const b0 = (seed * 31 + 160) % 256;
  const bx = (seed * 13) % (size / 2);
  const by = (seed * 7) % (size / 2);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3;
      const inBlock = x >= bx && x < bx + size / 2 && y >= by && y < by + size / 2;
      raw[i] = inBlock ? 255 - r0 : (r0 + x * 2) % 256;
      raw[i + 1] = inBlock ? 255 - g0 : (g0 + y * 2) % 256;
      raw[i + 2] = inBlock ? (b0 + 128) % 256 : b0;
    }
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const img = sharp(raw, { raw: { width: size, height: size, channels: 3 } });
  const fmt =
    opts.format ??
    (file.toLowerCase().endsWith('.png') ? 'png' : file.toLowerCase().endsWith('.webp') ? 'webp' : 'jpeg');
  await (fmt === 'png' ? img.png() : fmt === 'webp' ? img.webp() : img.jpeg({ quality: 92 })).toFile(file);
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/**
 * A tiny PNG whose header claims width × height (e.g. 20000 × 20000): what a decompression bomb looks
 * like to a decoder, without spending the time or disk to make a real one.
 */
export function writePngBomb(file: string, width = 20000, height = 20000): void {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const idat = zlib.deflateSync(Buffer.alloc(1 + width * 3)); // one scanline; the rest is "missing"
  fs.writeFileSync(
    file,
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', idat),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  );
}
