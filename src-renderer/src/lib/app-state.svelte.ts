/**
 * The renderer's shared state: what is shown, the library status, albums, the selection and the toasts.
 * One instance, created in main.ts and handed to components through context; all server access goes
 * through `api`, and every failure becomes a toast (`run`) instead of an unhandled rejection.
 */
import { getContext, setContext } from 'svelte';
import { SvelteSet } from 'svelte/reactivity';
import {
  ApiError,
  type AlbumInfo,
  type Api,
  type EventPayloads,
  type FolderInfo,
  type JobProgress,
  type PhotoSummary,
  type Status,
} from './api-client';
import { inBatches } from './batches';
import { plural } from './format';
import { QueryFileError, checkQueryFile, fileToBase64 } from './query-file';
import { applyTheme, storedTheme, type Theme } from './theme';

export type View = 'library' | 'album' | 'folders' | 'duplicates' | 'finetune' | 'results';
export type Sort = 'taken' | 'folder' | 'added';

export interface Toast {
  id: number;
  kind: 'error' | 'info';
  title: string;
  message: string;
}

export interface QueryResults {
  title: string;
  /** object URL of the query image, for the header */
  previewUrl: string | null;
  loading: boolean;
  results: { photo: PhotoSummary; score: number }[];
  /** how many results were asked for: as many came back means there may be more ("Show more") */
  k: number;
  /** the query image, kept to ask again for more results */
  file: File;
}

/** Results asked for at first, and how many more each "Show more" asks for; the contract allows 1000. */
export const RESULTS_PAGE = { viewer: 60, query: 100, max: 1000 };

/** Thumbnail sizes of the gallery's size slider, px. */
export const THUMB_SIZES = { min: 90, max: 320, default: 150 };

const KEY = Symbol('likeness-app');

export class AppState {
  view = $state<View>('library');
  albumId = $state<number | null>(null);
  sort = $state<Sort>((localStorage.getItem('likeness.sort') as Sort | null) ?? 'taken');
  theme = $state<Theme>(storedTheme());
  thumbSize = $state(
    Math.min(
      THUMB_SIZES.max,
      Math.max(THUMB_SIZES.min, Number(localStorage.getItem('likeness.thumbSize')) || THUMB_SIZES.default),
    ),
  );
  status = $state<Status | null>(null);
  statusLoaded = $state(false);
  albums = $state<AlbumInfo[]>([]);
  folders = $state<FolderInfo[]>([]);
  /** the photo in the large view, with the path of photos visited from its similar results */
  viewer = $state<{ history: number[] } | null>(null);
  query = $state<QueryResults | null>(null);
  /** selected photo ids; large selections replace the set whole (one change, not one per id) */
  selection = $state.raw(new SvelteSet<number>());
  /** bumped whenever the library changed: grids refetch what they show */
  libraryVersion = $state(0);
  toasts = $state<Toast[]>([]);
  private nextToast = 1;
  /** state objects are proxied, so requests are told apart by number, not identity */
  private queryRequest = 0;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly api: Api) {
    applyTheme(this.theme); // before the first paint, not after mount
    $effect.root(() => {
      $effect(() => localStorage.setItem('likeness.sort', this.sort));
      $effect(() => applyTheme(this.theme));
      $effect(() => localStorage.setItem('likeness.thumbSize', String(this.thumbSize)));
    });
  }

  get viewerPhotoId(): number | null {
    return this.viewer ? (this.viewer.history.at(-1) ?? null) : null;
  }

  get indexing(): JobProgress | null {
    const job = this.status?.indexing ?? null;
    return job && job.state !== 'done' && job.state !== 'cancelled' && job.state !== 'failed' ? job : null;
  }

  /** fine-tuning events seen (a status answer older than the last one keeps the event's state) */
  private trainingEvents = 0;

  /** the fine-tuning run in progress (from Status, then kept current by its events), or null */
  get training(): Status['training'] {
    return this.status?.training ?? null;
  }

  /** One more epoch of the run in progress (a run started in another window too); null: it ended. */
  setTraining(p: EventPayloads['finetune.progress'] | null): void {
    this.trainingEvents++;
    if (!this.status) return;
    const history = p ? [...(this.training?.history ?? []).filter((h) => h.epoch < p.epoch), p] : [];
    this.status = { ...this.status, training: p ? { epochs: p.epochs, history } : null };
  }

  get isEmpty(): boolean {
    return this.statusLoaded && !!this.status && this.status.folders === 0 && this.status.photos.total === 0;
  }

  // --- errors ----------------------------------------------------------------------------------------

  toast(
    kind: Toast['kind'],
    title: string,
    message: string,
    ttlMs = kind === 'error' ? 12_000 : 5_000,
  ): void {
    const id = this.nextToast++;
    this.toasts = [...this.toasts.slice(-3), { id, kind, title, message }];
    setTimeout(() => this.dismiss(id), ttlMs);
  }

  dismiss(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  fail(what: string, error: unknown): void {
    const message =
      error instanceof ApiError || error instanceof QueryFileError || error instanceof Error
        ? error.message
        : String(error);
    this.toast('error', what, message);
  }

  /** Runs `fn`; a failure becomes a toast titled `what`, and the result is undefined. */
  async run<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (error) {
      this.fail(what, error);
      return undefined;
    }
  }

  // --- library -----------------------------------------------------------------------------------------

  async refreshStatus(): Promise<void> {
    try {
      const seq = this.trainingEvents;
      const status = await this.api.status();
      // a fine-tuning event that came while the status was on its way is newer than its `training`
      this.status = seq === this.trainingEvents ? status : { ...status, training: this.training };
      this.statusLoaded = true;
    } catch (error) {
      // A status poll failing is not worth a toast each time; the first failure is.
      if (!this.statusLoaded) this.fail('Could not reach the library', error);
      this.statusLoaded = true;
    }
  }

  async refreshAlbums(): Promise<void> {
    const result = await this.run('Could not load albums', () => this.api.listAlbums());
    if (result) this.albums = result.albums;
  }

  async refreshFolders(): Promise<void> {
    const result = await this.run('Could not load folders', () => this.api.listFolders());
    if (result) this.folders = result.folders;
  }

  /** Coalesces bursts of change events into one refetch. */
  libraryChanged(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.libraryVersion++;
      void this.refreshStatus();
      void this.refreshAlbums();
      void this.refreshFolders();
    }, 250);
  }

  setJob(progress: JobProgress): void {
    if (this.status) this.status = { ...this.status, indexing: progress };
  }

  async addFolder(path: string): Promise<boolean> {
    const trimmed = path.trim();
    if (!trimmed) {
      this.toast('error', 'Add a folder', 'Type the path of a folder with photos first.');
      return false;
    }
    const result = await this.run('Could not add the folder', async () => {
      try {
        return await this.api.addFolder({ path: trimmed });
      } catch (error) {
        // The disk root or a huge folder: the engine asks, the user decides.
        if (!(error instanceof ApiError && error.code === 'confirmation_required')) throw error;
        return globalThis.confirm(error.message)
          ? this.api.addFolder({ path: trimmed, confirm: true })
          : undefined;
      }
    });
    if (!result) return false;
    const { path: added, photoCount } = result.folder;
    this.toast(
      'info',
      'Folder added',
      `${added}: ${plural(photoCount, 'photo')} found, indexing has started.`,
    );
    await Promise.all([this.refreshStatus(), this.refreshFolders()]);
    this.libraryVersion++;
    return true;
  }

  /** Moves photos to the OS trash (in batches), says what happened, and refetches. */
  async trashPhotos(photoIds: number[]): Promise<number[]> {
    const parts = await this.run('Could not move photos to the Trash', () =>
      inBatches(photoIds, (batch) => this.api.trashPhotos({ photoIds: batch })),
    );
    if (!parts) return [];
    const trashed = parts.flatMap((r) => r.trashed);
    const failed = parts.flatMap((r) => r.failed);
    if (failed.length)
      this.toast(
        'error',
        `${plural(failed.length, 'photo')} could not be moved`,
        failed.map((f) => f.error).join('; '),
      );
    if (trashed.length)
      this.toast(
        'info',
        'Moved to the Trash',
        `${plural(trashed.length, 'photo')} — restore them from your system's Trash if needed.`,
      );
    this.libraryChanged();
    return trashed;
  }

  /** The native picker in Electron; browser mode has no picker, so its callers show a path field. */
  async pickFolder(): Promise<void> {
    const picked = await this.run('Could not open the folder picker', () => this.api.pickFolder());
    if (picked?.path) await this.addFolder(picked.path);
  }

  /** Selects `ids`, instead of the selection or (additive) besides it. */
  select(ids: number[], additive: boolean): void {
    this.selection = new SvelteSet(additive ? [...this.selection, ...ids] : ids);
  }

  // --- navigation -------------------------------------------------------------------------------------------

  show(view: View, albumId: number | null = null): void {
    this.view = view;
    this.albumId = albumId;
    this.viewer = null;
    this.selection.clear();
  }

  openPhoto(photoId: number): void {
    this.viewer = { history: [photoId] };
  }

  /** Opens a similar result in the large view, remembering the way back. */
  followResult(photoId: number): void {
    if (!this.viewer) return this.openPhoto(photoId);
    this.viewer = { history: [...this.viewer.history, photoId] };
  }

  back(): void {
    if (!this.viewer) return;
    this.viewer = this.viewer.history.length > 1 ? { history: this.viewer.history.slice(0, -1) } : null;
  }

  closeViewer(): void {
    this.viewer = null;
  }

  // --- query by example -----------------------------------------------------------------------------------------

  async searchWithFile(file: File): Promise<void> {
    try {
      checkQueryFile(file);
    } catch (error) {
      return this.fail('Cannot search with this file', error);
    }
    // The previous results stay until the new search succeeds: a failed search loses nothing.
    const previous = { query: this.query, view: this.view };
    const name = file.name || 'Pasted image';
    const mine = ++this.queryRequest;
    const current: QueryResults = {
      title: name,
      previewUrl: URL.createObjectURL(file),
      loading: true,
      results: [],
      k: RESULTS_PAGE.query,
      file,
    };
    this.query = current;
    this.view = 'results';
    this.viewer = null;
    try {
      const bytesBase64 = await fileToBase64(file);
      const { results } = await this.api.searchByImage({ bytesBase64, name, k: current.k });
      if (previous.query?.previewUrl) URL.revokeObjectURL(previous.query.previewUrl);
      if (mine === this.queryRequest) this.query = { ...current, loading: false, results };
    } catch (error) {
      if (current.previewUrl) URL.revokeObjectURL(current.previewUrl);
      if (mine === this.queryRequest) {
        this.query = previous.query;
        if (!previous.query) this.view = previous.view === 'results' ? 'library' : previous.view;
      }
      this.fail('Search by image failed', error);
    }
  }

  /** Asks again with the same image for more results (the first ones stay shown meanwhile). */
  async moreQueryResults(): Promise<void> {
    const q = this.query;
    if (!q || q.loading) return;
    const mine = ++this.queryRequest;
    const k = Math.min(RESULTS_PAGE.max, q.k + RESULTS_PAGE.query);
    this.query = { ...q, loading: true };
    try {
      const bytesBase64 = await fileToBase64(q.file);
      const { results } = await this.api.searchByImage({ bytesBase64, name: q.title, k });
      if (mine === this.queryRequest) this.query = { ...q, loading: false, results, k };
    } catch (error) {
      if (mine === this.queryRequest) this.query = { ...q, loading: false };
      this.fail('Could not load more results', error);
    }
  }
}

export function setApp(app: AppState): AppState {
  return setContext(KEY, app);
}

export function getApp(): AppState {
  return getContext<AppState>(KEY);
}
