/**
 * An append-only log file capped in size: past `maxBytes` it becomes `<file>.1` (the older ones shift
 * to `.2` …) and a fresh file starts; only `generations` old files are kept. Writes are synchronous so
 * that the last lines before a crash are on disk.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface RotatingFileOptions {
  /** default 2 MiB */
  maxBytes?: number;
  /** rotated files kept beside the current one; default 3 */
  generations?: number;
}

export class RotatingFile {
  private fd: number | null = null;
  private size = 0;
  private closed = false;
  private readonly maxBytes: number;
  private readonly generations: number;

  constructor(
    readonly file: string,
    options: RotatingFileOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? 2 * 1024 * 1024;
    this.generations = options.generations ?? 3;
  }

  write(text: string): void {
    if (this.closed) return; // a late line from a stopping worker: the host has moved on
    const bytes = Buffer.from(text, 'utf8');
    if (this.fd === null) this.open();
    if (this.size > 0 && this.size + bytes.length > this.maxBytes) {
      this.rotate();
      this.open();
    }
    fs.writeSync(this.fd!, bytes);
    this.size += bytes.length;
  }

  close(): void {
    this.closeFile();
    this.closed = true;
  }

  private closeFile(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private open(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    this.fd = fs.openSync(this.file, 'a');
    this.size = fs.fstatSync(this.fd).size;
  }

  private rotate(): void {
    this.closeFile();
    const gen = (n: number) => (n === 0 ? this.file : `${this.file}.${n}`);
    fs.rmSync(gen(this.generations), { force: true });
    for (let n = this.generations - 1; n >= 0; n--) {
      if (fs.existsSync(gen(n))) fs.renameSync(gen(n), gen(n + 1));
    }
  }
}
