import path from 'node:path';
import type { JobProgress } from '../engine/api/contract';

const fmtTime = (s: number | null): string => {
  if (s === null || !Number.isFinite(s)) return '--';
  s = Math.round(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
};

/** Renders indexing progress: a redrawn bar on a terminal, a plain line every few seconds otherwise. */
export class ProgressView {
  private lastLine = 0;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly intervalMs = 5000,
  ) {}

  /** `p.done` counts every photo finished, indexed or failed (the contract's JobProgress). */
  update(p: JobProgress): void {
    const pct = p.total ? Math.floor((p.done / p.total) * 100) : 100;
    const stats = `${p.done}/${p.total} ${pct}% ${p.rate.toFixed(1)}/s ETA ${fmtTime(p.etaSeconds)}${p.state === 'paused' ? ' (paused)' : ''}`;
    if (this.out.isTTY) {
      const cols = this.out.columns ?? 80;
      const width = 24;
      const fill = Math.round((pct / 100) * width);
      const bar = `[${'#'.repeat(fill)}${'-'.repeat(width - fill)}]`;
      let line = `${bar} ${stats} ${p.current ? path.basename(p.current) : ''}`;
      if (line.length > cols - 1) line = line.slice(0, cols - 1);
      this.out.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else if (
      Date.now() - this.lastLine >= this.intervalMs ||
      p.state === 'done' ||
      p.state === 'cancelled'
    ) {
      this.lastLine = Date.now();
      this.out.write(`indexing ${stats}\n`);
    }
  }

  /** Ends the bar's line so later output starts clean. */
  finish(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
