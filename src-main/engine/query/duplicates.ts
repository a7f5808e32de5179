/**
 * Copies and near-duplicates of the library. The engine's thread only picks what to scan (a snapshot of
 * the current graph, or all pairs of a small library) and forwards the request; the duplicates worker
 * does the reading and the comparing (duplicate-finder.ts). During a head switch the snapshot is of the
 * graph that is still answering, with the head version it was built with; a small library's scan (all
 * pairs, from SQLite) that a switch overtook is done again.
 */
import fs from 'node:fs';
import { spawnModuleWorker } from '../runtime/module-worker';
import { WorkerCalls } from '../runtime/worker-calls';
import type { PhotoRow } from '../store/types';
import { DEFAULT_COPY_THRESHOLD } from './duplicate-defaults';
import type { FoundDuplicates } from './duplicate-finder';
import type { DuplicatesReply, DuplicatesRequest, DuplicatesWorkerData } from './duplicates-protocol';
import type { QueryContext } from './search';
import type { DuplicateGroup } from './types';

export interface DuplicateOptions {
  /** copy score at or above which two photos are copies */
  threshold?: number;
  /** computes (and stores) the fingerprint of a photo indexed before fingerprints existed */
  fingerprintOf?: (photo: PhotoRow) => Promise<Uint8Array | undefined>;
}

/** The duplicates worker of one library: started on first use, ended with the library. */
export class DuplicateFinder {
  private readonly worker: WorkerCalls<DuplicatesReply>;

  constructor(
    private readonly ctx: QueryContext,
    dbDir: string,
  ) {
    const data: DuplicatesWorkerData = { dbDir };
    this.worker = new WorkerCalls({
      spawn: () => spawnModuleWorker(import.meta.url, './duplicates.worker', data),
      name: 'the duplicates worker',
      errorOf: (m) => ('error' in m ? `duplicate scan failed: ${m.error}` : null),
    });
  }

  async find(opts: DuplicateOptions = {}): Promise<DuplicateGroup[]> {
    const threshold = opts.threshold ?? DEFAULT_COPY_THRESHOLD;
    let found = await this.scan(threshold);
    if (found.missing.length && opts.fingerprintOf) {
      // Photos indexed before fingerprints existed get theirs once, then the worker compares them.
      let made = 0;
      for (const photo of this.ctx.store.photosByIds(found.missing).values())
        if (await opts.fingerprintOf(photo)) made++;
      if (made) found = await this.scan(threshold);
    }
    return found.groups;
  }

  close(): Promise<void> {
    return this.worker.terminate();
  }

  private async scan(threshold: number): Promise<FoundDuplicates> {
    const { index } = this.ctx;
    if (index.exact && index.size >= index.options.exactBelow) await index.whenReady();
    const view = index.view();
    const graphFile = view.approximate ? await view.snapshot() : null;
    try {
      const request: Omit<DuplicatesRequest, 'id'> = {
        graphFile,
        dim: index.dim,
        headVersion: view.headVersion,
        threshold,
      };
      // An error reply has already rejected (errorOf).
      const reply = (await this.worker.call(request)) as Extract<DuplicatesReply, { ok: unknown }>;
      // All pairs are read from SQLite: a head switch that landed meanwhile may have dropped the version
      // being read (a snapshot carries its own vectors). Scanned again with the new head.
      if (!graphFile && index.headVersion !== view.headVersion) return await this.scan(threshold);
      return reply.ok;
    } finally {
      if (graphFile) fs.rmSync(graphFile, { force: true });
    }
  }
}
