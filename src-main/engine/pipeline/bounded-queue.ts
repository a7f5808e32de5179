/** A FIFO with a capacity: producers wait when it is full (back-pressure), consumers when it is empty. */
export class BoundedQueue<T> {
  private items: T[] = [];
  private closed = false;
  private waiters: (() => void)[] = [];

  constructor(private readonly capacity: number) {}

  get length(): number {
    return this.items.length;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  private wait(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }

  async push(item: T): Promise<void> {
    while (this.items.length >= this.capacity && !this.closed) await this.wait();
    this.items.push(item);
    this.wake();
  }

  /** Up to `max` items, waiting for at least one; [] once closed and drained. */
  async take(max: number): Promise<T[]> {
    while (this.items.length === 0 && !this.closed) await this.wait();
    const out = this.items.splice(0, max);
    this.wake();
    return out;
  }

  close(): void {
    this.closed = true;
    this.wake();
  }
}
