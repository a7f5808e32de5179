/**
 * A fresh library driven the way a user drives it: the engine API that the UI and the CLI call
 * (createEngineApi), photos added as folders (symbolic links to the dataset's files, in a temporary
 * folder: nothing is copied), indexing to the end of each run, and queries with `similar` /
 * `searchByRegion`. Only the embedder is injected (bench/lib/cached-embedder.ts, or the real one).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngineApi, whenIndexReady, type EngineHost } from '../../src-main/engine/api/engine-api';
import type { Box } from '../../src-main/engine/decode/box';
import type { PhotoEmbedder } from '../../src-main/engine/embed/photo-embedder';
import type { Dataset } from './datasets';
import { imagePath } from './datasets';

export interface HeadState {
  /** active head version, and how many versions the library has made so far */
  version: number;
  versions: number;
  dim: number;
}

/** Shares one embedder between libraries: the engine closes its embedder with the library. */
function unclosable(e: PhotoEmbedder): PhotoEmbedder {
  return {
    get modelId() {
      return e.modelId;
    },
    get channels() {
      return e.channels;
    },
    get provider() {
      return e.provider;
    },
    get description() {
      return e.description;
    },
    decode: (source, request) => e.decode(source, request),
    embed: (tensors) => e.embed(tensors),
  };
}

export class ServedLibrary {
  /** dataset index → photo id (photos indexed so far) */
  readonly idOf = new Map<number, number>();
  private readonly fileIndex: Map<string, number>;
  private folders = 0;

  private constructor(
    readonly ds: Dataset,
    readonly host: EngineHost,
    private readonly root: string,
  ) {
    this.fileIndex = new Map(ds.files.map((f, i) => [linkName(f), i]));
  }

  static async open(ds: Dataset, embedder: PhotoEmbedder): Promise<ServedLibrary> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'likeness-served-'));
    const host = await createEngineApi({
      dbDir: path.join(root, 'library'),
      trash: () => Promise.reject(new Error('benchmarks never trash photos')),
      createEmbedder: () => Promise.resolve(unclosable(embedder)),
      library: { watch: false },
      log: () => {},
    });
    return new ServedLibrary(ds, host, root);
  }

  get size(): number {
    return this.idOf.size;
  }

  /** Adds the dataset photos `indices` as one new folder and waits for its indexing run to end. */
  async addFolder(indices: number[]): Promise<void> {
    const dir = path.join(this.root, `folder-${++this.folders}`);
    fs.mkdirSync(dir);
    for (const i of indices)
      fs.symlinkSync(imagePath(this.ds, i), path.join(dir, linkName(this.ds.files[i])));
    const done = new Promise<void>((resolve, reject) => {
      const off = this.host.events.subscribe((e) => {
        if (e.event !== 'index.done') return;
        off();
        if (e.data.state !== 'done') reject(new Error(`indexing ended ${e.data.state}`));
        else resolve();
      });
    });
    await this.host.api.addFolder({ path: dir });
    await done;
    // The run ends when its photos are searchable; the head it asked for follows, and that head is what
    // the user is served from then on.
    await whenIndexReady({
      status: () => this.host.api.status({}),
      subscribe: (l) => this.host.events.subscribe(l),
    });
    await this.refreshIds();
  }

  async head(): Promise<HeadState> {
    const { heads } = await this.host.api.listHeads({});
    const active = heads.find((h) => h.active)!;
    return { version: active.version, versions: heads.length, dim: active.dim };
  }

  /** Served ranking of library photos for a library photo (dataset indices, best first). */
  async similar(query: number, k = 1000): Promise<number[]> {
    const r = await this.host.api.similar({ photoId: this.idOf.get(query)!, k: Math.min(k, 1000) });
    return r.results.map((h) => this.indexOfName(h.photo.name));
  }

  /** Served ranking for a region of a library photo. */
  async region(query: number, box: Box, k = 1000): Promise<number[]> {
    const r = await this.host.api.searchByRegion({
      photoId: this.idOf.get(query)!,
      box,
      k: Math.min(k, 1000),
    });
    return r.results.map((h) => this.indexOfName(h.photo.name));
  }

  async close(): Promise<void> {
    await this.host.close();
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  private indexOfName(name: string): number {
    const i = this.fileIndex.get(name);
    if (i === undefined) throw new Error(`result ${name} is not a dataset photo`);
    return i;
  }

  private async refreshIds(): Promise<void> {
    this.idOf.clear();
    for (let offset = 0; ; offset += 1000) {
      const page = await this.host.api.listPhotos({ offset, limit: 1000, sort: 'added' });
      for (const p of page.items) this.idOf.set(this.indexOfName(p.name), p.id);
      if (offset + page.items.length >= page.total) break;
    }
  }
}

/** Class-format datasets keep files in class folders: one flat name per file. */
function linkName(file: string): string {
  return file.replace(/[\\/]/g, '__');
}
