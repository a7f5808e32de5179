/**
 * Watches the serving thread (Electron's main process, or the browser-mode server): a tick that comes
 * late by more than the threshold (default 40 ms, LIKENESS_SLOW_MS) means something held the thread
 * that long; it is logged with the API calls active meanwhile, so the slow operation has a name.
 */
import { performance } from 'node:perf_hooks';
import { slowOperationMs } from '../config';
import type { Logger } from './logger';

export interface Stall {
  /** how long the thread was held, at least */
  ms: number;
  /** API calls active during the stall (some may have finished within it) */
  operations: string[];
}

export class ServingThreadWatch {
  /** calls active since the last tick (a synchronous one starts and ends between two ticks) */
  private calls = new Map<number, { name: string; end: number }>();
  private nextId = 1;
  private timer: NodeJS.Timeout | null = null;
  private last = 0;

  constructor(
    private readonly log: Logger,
    readonly thresholdMs = slowOperationMs(),
    private readonly tickMs = 20,
    private readonly onStall?: (stall: Stall) => void,
  ) {}

  start(): this {
    if (this.timer) return this;
    this.last = performance.now();
    this.timer = setInterval(() => this.tick(), this.tickMs).unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Runs `run` as the named operation; a call slower than the threshold overall is logged (debug). */
  async track<T>(name: string, run: () => Promise<T>): Promise<T> {
    const id = this.nextId++;
    const call = { name, end: Infinity };
    this.calls.set(id, call);
    const t0 = performance.now();
    try {
      return await run();
    } finally {
      call.end = performance.now();
      const ms = call.end - t0;
      if (ms > this.thresholdMs) this.log.debug(`${name} took ${Math.round(ms)} ms`);
    }
  }

  /** Every method of `api`, tracked under its name. */
  wrap<T extends object>(api: T): T {
    const out: Record<string, unknown> = {};
    for (const [name, fn] of Object.entries(api)) {
      out[name] =
        typeof fn === 'function'
          ? (...args: unknown[]) =>
              this.track(name, async () => (fn as (...a: unknown[]) => unknown)(...args))
          : fn;
    }
    return out as T;
  }

  private tick(): void {
    const now = performance.now();
    const late = now - this.last - this.tickMs;
    this.last = now;
    if (late >= this.thresholdMs) {
      // the calls that were still running when the thread stopped answering
      const from = now - late;
      const names = [...this.calls.values()].filter((c) => c.end >= from).map((c) => c.name);
      const stall = { ms: Math.round(late), operations: [...new Set(names)].sort() };
      const during = stall.operations.length ? stall.operations.join(', ') : 'no API call';
      this.log.info(`slow: the serving thread was held ${stall.ms} ms (during: ${during})`);
      this.onStall?.(stall);
    }
    for (const [id, c] of this.calls) if (c.end !== Infinity) this.calls.delete(id);
  }
}
