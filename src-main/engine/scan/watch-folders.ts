import fs from 'node:fs';

/**
 * Watches library folders (recursively) and calls `onChange(folderId)` once things settle, debounced,
 * so a copy of a thousand photos triggers one incremental rescan, not a thousand.
 */
export class FolderWatcher {
  private watchers = new Map<number, fs.FSWatcher>();
  private timers = new Map<number, NodeJS.Timeout>();

  constructor(
    private readonly onChange: (folderId: number) => void,
    private readonly debounceMs = 1500,
    private readonly onError: (message: string) => void = () => {},
  ) {}

  watch(folderId: number, dir: string): void {
    if (this.watchers.has(folderId)) return;
    try {
      const w = fs.watch(dir, { recursive: true, persistent: false }, () => this.bump(folderId));
      w.on('error', (err) => {
        this.onError(`watching ${dir} stopped: ${err.message}`);
        this.unwatch(folderId);
      });
      this.watchers.set(folderId, w);
    } catch (err) {
      this.onError(`cannot watch ${dir}: ${(err as Error).message}`);
    }
  }

  private bump(folderId: number): void {
    clearTimeout(this.timers.get(folderId));
    this.timers.set(
      folderId,
      setTimeout(() => {
        this.timers.delete(folderId);
        this.onChange(folderId);
      }, this.debounceMs),
    );
  }

  unwatch(folderId: number): void {
    this.watchers.get(folderId)?.close();
    this.watchers.delete(folderId);
    clearTimeout(this.timers.get(folderId));
    this.timers.delete(folderId);
  }

  close(): void {
    for (const id of [...this.watchers.keys()]) this.unwatch(id);
  }
}
