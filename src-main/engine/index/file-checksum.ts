import crypto from 'node:crypto';
import fs from 'node:fs';

/** sha1 of a whole file, read in 4 MiB blocks (the HNSW file is never handed to native code unchecked). */
export function fileSha1(file: string): string {
  const h = crypto.createHash('sha1');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(4 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** fileSha1, read and hashed off the calling thread's critical path (a stream over the libuv pool). */
export async function fileSha1Async(file: string): Promise<string> {
  const h = crypto.createHash('sha1');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Writes via a temp file and rename, so a crash never leaves a half-written file under the real name. */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}
