import crypto from 'node:crypto';
import fs from 'node:fs/promises';

const EDGE = 64 * 1024;

/**
 * Content hash used to recognise a moved or renamed photo: sha1 over (size, first 64 KiB, last 64 KiB).
 * Reads at most 128 KiB per file, so hashing a large library stays cheap; photos differing only in the
 * middle of a file of the same size are the (accepted) blind spot.
 */
export async function contentHash(file: string, size: number): Promise<string> {
  const h = crypto.createHash('sha1');
  h.update(`${size}:`);
  const fh = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(EDGE, size));
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    h.update(head.subarray(0, bytesRead));
    if (size > EDGE) {
      const tailLen = Math.min(EDGE, size - EDGE);
      const tail = Buffer.alloc(tailLen);
      const r = await fh.read(tail, 0, tailLen, size - tailLen);
      h.update(tail.subarray(0, r.bytesRead));
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}
