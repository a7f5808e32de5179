/**
 * The Likeness API contract: every method (argument schema + result type) and every event, defined once.
 * Both transports (Electron IPC and loopback HTTP) and the renderer's client are derived from this file,
 * and `dispatch` is the single place where arguments are validated.
 *
 * Keep this file free of node and electron imports: the renderer and the sandboxed preload bundle it.
 * Conventions: arguments are always one JSON object; results are JSON; times are epoch milliseconds;
 * ids are positive integers; boxes are fractions (0..1) of the displayed (EXIF-oriented) image.
 */
import { s, SchemaError, type Infer, type Schema } from './schema';
import type { Box } from '../decode/box';
import type { EpochProgress, FineTuneOutcome, TrainingState } from '../finetune/training-state';
import type { JobOutcome, JobProgress } from '../pipeline/job-progress';
import type { AcceleratorInfo } from '../runtime/accelerator-info';
import type { PhotoStatus } from '../store/types';

export { s, SchemaError, type Infer, type Schema } from './schema';
// The engine defines these (in dependency-free modules); the contract publishes them as they are.
export type { Box } from '../decode/box';
export type { EpochProgress, FineTuneOutcome, TrainingState } from '../finetune/training-state';
export type { JobOutcome, JobProgress, JobState } from '../pipeline/job-progress';
export type { AcceleratorInfo } from '../runtime/accelerator-info';
export type { PhotoStatus } from '../store/types';

// ---------------------------------------------------------------------------------------------------
// Data types shared by results and events
// ---------------------------------------------------------------------------------------------------

/** What a grid cell needs. Image URLs are built by the client (`mediaUrl('thumb', id)`), never sent. */
export interface PhotoSummary {
  id: number;
  /** file name without the folder */
  name: string;
  /** displayed (EXIF-oriented) size; null until decoded */
  width: number | null;
  height: number | null;
  /** capture time from EXIF, else the file's mtime; epoch ms */
  takenAt: number | null;
}

export interface PhotoDetails extends PhotoSummary {
  path: string;
  /** bytes */
  size: number;
  folder: { id: number; path: string };
  albums: { id: number; name: string }[];
  status: PhotoStatus;
  /** why indexing failed (status 'failed'), else null */
  error: string | null;
}

export interface FolderInfo {
  id: number;
  path: string;
  /** photos: files that were read, or are waiting to be (see Status.photos.total) */
  photoCount: number;
  /** false while the folder cannot be found (an unmounted drive): its photos are left out of results */
  available: boolean;
  /** files with a photo's name that could not be read as one; not counted as photos */
  unreadable: number;
}

export interface AlbumInfo {
  id: number;
  name: string;
  photoCount: number;
  coverPhotoId: number | null;
}

export interface ModelInfo {
  name: string;
  /** the backbone layer the pooled descriptors are taken from */
  tap: string;
  inputSize: number;
  /** channels of the tapped feature map (= length of each raw pooled vector) */
  dim: number;
}

export interface HeadSummary {
  version: number;
  /** branch letters in order, e.g. "SG" */
  combo: string;
  /** embedding size */
  dim: number;
}

export interface HeadInfo extends HeadSummary {
  /** 'pca' = unsupervised whitening of the library, 'trained' = fine-tuned on albums */
  kind: 'pca' | 'trained';
  createdAt: number;
  active: boolean;
  /** held-out Recall@1 measured when the head was trained, if any */
  heldOutR1: number | null;
  /** false: a fine-tuning candidate the trainer did not adopt (kept; the user may still use it) */
  adopted?: boolean;
  /** the trainer's verdict on a trained head, in plain words (the caveat of one not adopted) */
  verdict?: string | null;
}

/** "cpu (int8; batch 8; webgpu skipped: Failed to get a WebGPU adapter: …)": one line for people. */
export function describeAccelerator(provider: string | null, a: AcceleratorInfo | null | undefined): string {
  if (!provider) return 'no runtime';
  if (!a) return provider;
  const parts = [a.precision, ...(a.adapter ? [a.adapter] : []), `batch ${a.batchSize}`];
  const skipped = a.skipped.map((s) => `${s.provider} skipped: ${s.reason}`);
  return `${provider} (${[...parts, ...skipped].join('; ')})`;
}

export interface Status {
  /**
   * `total` counts photos: indexed or waiting to be. Files that could not be read (`failed`) and files gone
   * from disk (`missing`) are not photos of the library; every count the UI shows follows this rule.
   */
  photos: { total: number; indexed: number; pending: number; failed: number; missing: number };
  folders: number;
  model: ModelInfo | null;
  /** ONNX Runtime execution provider in use, e.g. "cpu", "webgpu", "cuda", "dml", "coreml" */
  provider: string | null;
  accelerator?: AcceleratorInfo | null;
  head: HeadSummary | null;
  indexing: JobProgress | null;
  index: { ready: boolean; exact: boolean };
  /** folders that cannot be found now; their photos are kept but left out of results */
  unavailableFolders?: { id: number; path: string }[];
  /** pid of another Likeness that writes (indexes) this library; this one can only search */
  lockedBy?: number | null;
  /** what the last full database check found wrong (absent or empty: nothing) */
  databaseProblems?: string[];
  /** the fine-tuning run in progress (absent or null: none), so every view and window shows it */
  training?: TrainingState | null;
}

/** Copies of one photo, or near-duplicates (other shots of one moment); see engine/query/duplicates.ts. */
export interface DuplicateGroupInfo {
  kind: 'copies' | 'near-duplicates';
  /** the group's lowest score: copy score for copies, similarity for near-duplicates */
  score: number;
  /** copyOf: the photo of the group this one is a copy of (the copy to keep), else null */
  photos: { photo: PhotoSummary; score: number; copyOf: number | null }[];
}

export { DEFAULT_COPY_THRESHOLD, COPY_THRESHOLD_RANGE } from '../query/duplicate-defaults';

export interface SearchResults {
  results: { photo: PhotoSummary; score: number }[];
}

export interface Page<T> {
  total: number;
  items: T[];
}

export interface Failure {
  photoId: number;
  path: string;
  error: string;
}

// ---------------------------------------------------------------------------------------------------
// Argument schemas
// ---------------------------------------------------------------------------------------------------

const id = () => s.int({ min: 1 });
/** Most photo ids one call takes; the renderer sends larger selections in batches of this size. */
export const MAX_IDS_PER_CALL = 10_000;
const ids = () => s.array(id(), { minLength: 1, maxLength: MAX_IDS_PER_CALL });
const none = s.object({});
const page = { offset: s.int({ min: 0 }), limit: s.int({ min: 1, max: 1000 }) };
const albumName = s.string({ minLength: 1, maxLength: 200 });
/** Which photos a gallery view shows, in which order. */
const photoView = {
  sort: s.enum(['taken', 'folder', 'added']),
  folderId: s.optional(id()),
  albumId: s.optional(id()),
};

/** Options every "find similar" query accepts. */
const searchOptions = {
  k: s.optional(s.int({ min: 1, max: 1000 })),
  /** minimum cosine similarity */
  threshold: s.optional(s.number({ min: -1, max: 1 })),
  /** average the query with its top hits and search again (query expansion) */
  expand: s.optional(s.boolean()),
  folderId: s.optional(id()),
  /** takenAt range, epoch ms, inclusive */
  from: s.optional(s.number()),
  to: s.optional(s.number()),
};
const dateRange = (v: { from?: number; to?: number }) =>
  v.from !== undefined && v.to !== undefined && v.from > v.to ? '`from` must not be after `to`' : undefined;

/** A box in 0..1 fractions of the displayed image that stays inside it. */
const box: Schema<Box> = s.object(
  {
    x: s.number({ min: 0, max: 1 }),
    y: s.number({ min: 0, max: 1 }),
    w: s.number({ min: 0.01, max: 1 }),
    h: s.number({ min: 0.01, max: 1 }),
  },
  (b) =>
    b.x + b.w > 1.000001 || b.y + b.h > 1.000001
      ? 'box must lie inside the image (x + w ≤ 1, y + h ≤ 1)'
      : undefined,
);

/** Largest image accepted by searchByImage, in bytes (base64 is 4/3 of that). */
export const MAX_QUERY_IMAGE_BYTES = 40 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------------
// Methods
// ---------------------------------------------------------------------------------------------------

/** Carries a result type without a runtime schema: results are produced by our own code, not parsed. */
interface Returns<R> {
  readonly _result?: R;
}
const returns = <R>(): Returns<R> => ({});
// Argument types are inferred from the schemas; only result types are written by hand.
// `host` methods are implemented by the shell (Electron or the HTTP server), not by the engine.
const method = <A, R>(args: Schema<A>, result: Returns<R>) => ({ args, host: false as const, result });
const hostMethod = <A, R>(args: Schema<A>, result: Returns<R>) => ({ args, host: true as const, result });

const searchByImageArgs = s.object(
  {
    bytesBase64: s.string({
      minLength: 4,
      maxLength: Math.ceil(MAX_QUERY_IMAGE_BYTES / 3) * 4,
      pattern: /^[A-Za-z0-9+/]+={0,2}$/,
      label: `base64 image bytes (at most ${MAX_QUERY_IMAGE_BYTES / 1024 / 1024} MiB)`,
    }),
    /** original file name, used only in messages and to help sniff the format */
    name: s.optional(s.string({ maxLength: 255 })),
    ...searchOptions,
  },
  dateRange,
);

export const methods = {
  status: method(none, returns<Status>()),

  listFolders: method(none, returns<{ folders: FolderInfo[] }>()),
  addFolder: method(
    s.object({
      path: s.string({ minLength: 1, maxLength: 4096 }),
      /** the user confirmed adding the disk root or a folder of more than 100k files */
      confirm: s.optional(s.boolean()),
    }),
    returns<{ folder: FolderInfo }>(),
  ),
  removeFolder: method(s.object({ folderId: id() }), returns<{ removed: boolean }>()),
  /** Looks for new, changed and removed files in a library folder, then indexes what is new. */
  rescanFolder: method(s.object({ folderId: id() }), returns<{ folder: FolderInfo }>()),

  listPhotos: method(s.object({ ...page, ...photoView }), returns<Page<PhotoSummary>>()),
  /** The ids of a range of listPhotos (same order and filters): a selection of the whole view. */
  listPhotoIds: method(
    s.object({ offset: s.int({ min: 0 }), limit: s.int({ min: 1, max: 1_000_000 }), ...photoView }),
    returns<{ total: number; ids: number[] }>(),
  ),
  getPhoto: method(s.object({ photoId: id() }), returns<PhotoDetails>()),
  /** The library photo at an absolute file path; not_found says "no such file" or "not in the library". */
  findPhoto: method(s.object({ path: s.string({ minLength: 1, maxLength: 4096 }) }), returns<PhotoDetails>()),

  similar: method(s.object({ photoId: id(), ...searchOptions }, dateRange), returns<SearchResults>()),
  searchByImage: method(searchByImageArgs, returns<SearchResults>()),
  searchByRegion: method(s.object({ photoId: id(), box, k: searchOptions.k }), returns<SearchResults>()),

  duplicates: method(
    s.object({ threshold: s.optional(s.number({ min: 0.5, max: 1 })) }),
    returns<{ groups: DuplicateGroupInfo[] }>(),
  ),
  /** Moves files to the OS trash (never a hard delete) and forgets them. */
  trashPhotos: method(
    s.object({ photoIds: ids() }),
    returns<{ trashed: number[]; failed: { photoId: number; error: string }[] }>(),
  ),

  listAlbums: method(none, returns<{ albums: AlbumInfo[] }>()),
  createAlbum: method(s.object({ name: albumName }), returns<{ album: AlbumInfo }>()),
  renameAlbum: method(s.object({ albumId: id(), name: albumName }), returns<{ album: AlbumInfo }>()),
  deleteAlbum: method(s.object({ albumId: id() }), returns<{ deleted: boolean }>()),
  addToAlbum: method(s.object({ albumId: id(), photoIds: ids() }), returns<{ album: AlbumInfo }>()),
  removeFromAlbum: method(s.object({ albumId: id(), photoIds: ids() }), returns<{ album: AlbumInfo }>()),

  startIndexing: method(none, returns<{ started: boolean }>()),
  pauseIndexing: method(none, returns<{ paused: boolean }>()),
  resumeIndexing: method(none, returns<{ resumed: boolean }>()),
  cancelIndexing: method(none, returns<{ cancelled: boolean }>()),
  listFailures: method(s.object(page), returns<Page<Failure>>()),

  startFineTune: method(s.object({ albumIds: s.optional(ids()) }), returns<{ started: boolean }>()),
  cancelFineTune: method(none, returns<{ cancelled: boolean }>()),
  listHeads: method(none, returns<{ heads: HeadInfo[] }>()),
  /** Adopt a head version (also how the user rolls back). */
  useHead: method(s.object({ version: id() }), returns<{ head: HeadSummary }>()),

  /** Native folder picker (Electron only; browser mode answers `unavailable`). */
  pickFolder: hostMethod(none, returns<{ path: string | null }>()),
  /** Show the file in the OS file manager (Electron only). */
  revealPhoto: hostMethod(s.object({ photoId: id() }), returns<{ revealed: boolean }>()),
  hostInfo: hostMethod(none, returns<{ mode: 'electron' | 'browser' }>()),
};

export type SimilarArgs = ArgsOf<'similar'>;
export type SearchByImageArgs = ArgsOf<'searchByImage'>;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type ArgsOf<M extends MethodName> = Infer<Methods[M]['args']>;
export type ResultOf<M extends MethodName> = Methods[M]['result'] extends Returns<infer R> ? R : never;

/** What an implementation provides (the engine plus the host methods): every method takes its argument object. */
export type LikenessApi = { [M in MethodName]: (args: ArgsOf<M>) => Promise<ResultOf<M>> };

/**
 * What callers get (the renderer's client): the same, except that methods without required arguments may be
 * called with none, `api.status()`. A LikenessClient is also a LikenessApi.
 */
export type LikenessClient = {
  [M in MethodName]: object extends ArgsOf<M>
    ? (args?: ArgsOf<M>) => Promise<ResultOf<M>>
    : (args: ArgsOf<M>) => Promise<ResultOf<M>>;
};

export const methodNames = Object.keys(methods) as MethodName[];
export type HostMethodName = {
  [M in MethodName]: Methods[M]['host'] extends true ? M : never;
}[MethodName];
export const hostMethodNames = methodNames.filter((m) => methods[m].host) as HostMethodName[];
/** What the engine implements; the shell adds the host methods. */
export type EngineApi = Omit<LikenessApi, HostMethodName>;
export type HostApi = Pick<LikenessApi, HostMethodName>;

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(methods, name);
}

// ---------------------------------------------------------------------------------------------------
// Events (engine → renderer)
// ---------------------------------------------------------------------------------------------------

export interface EventPayloads {
  'index.progress': JobProgress;
  'index.done': JobOutcome;
  /** photos, folders or albums changed; the renderer refetches what it shows */
  'library.changed': { reason: string };
  'finetune.progress': EpochProgress;
  'finetune.done': FineTuneOutcome;
  'heads.changed': { active: number | null };
}
export type EventName = keyof EventPayloads;
export const eventNames: readonly EventName[] = [
  'index.progress',
  'index.done',
  'library.changed',
  'finetune.progress',
  'finetune.done',
  'heads.changed',
];
export type LikenessEvent = { [E in EventName]: { event: E; data: EventPayloads[E] } }[EventName];

/** How the engine hands events to a transport. */
export interface EventSource {
  subscribe(listener: (event: LikenessEvent) => void): () => void;
}

export function isEventName(name: string): name is EventName {
  return (eventNames as readonly string[]).includes(name);
}

// ---------------------------------------------------------------------------------------------------
// The Electron bridge (what the preload exposes as `window.likeness`)
// ---------------------------------------------------------------------------------------------------

export const BRIDGE_KEY = 'likeness';
/** ipcMain.handle channel of a method: `likeness:<method>` */
export const ipcChannel = (method: MethodName) => `likeness:${method}`;
export const IPC_EVENT_CHANNEL = 'likeness:event';
/** Electron's image protocol: `likeness-media://thumb/<photoId>`, `likeness-media://full/<photoId>` */
export const MEDIA_SCHEME = 'likeness-media';

/**
 * Methods answer an Outcome rather than throwing, because errors crossing IPC and contextBridge lose their
 * `code`; the renderer's client turns `{ ok: false }` back into an ApiError.
 */
export type LikenessBridge = { [M in MethodName]: (args?: unknown) => Promise<Outcome<ResultOf<M>>> } & {
  onEvent(listener: (event: LikenessEvent) => void): () => void;
};

// ---------------------------------------------------------------------------------------------------
// Errors and dispatch
// ---------------------------------------------------------------------------------------------------

/** `unauthorized` is only produced by browser mode's transport (missing or wrong token), never by the engine. */
export type ApiErrorCode =
  | 'invalid_argument'
  | 'not_found'
  | 'unavailable'
  | 'internal'
  | 'unauthorized'
  /** allowed, but only once the user confirms (the call is repeated with `confirm: true`) */
  | 'confirmation_required';
export const apiErrorCodes: readonly ApiErrorCode[] = [
  'confirmation_required',
  'invalid_argument',
  'not_found',
  'unavailable',
  'internal',
  'unauthorized',
];

export interface ApiErrorPayload {
  code: ApiErrorCode;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toJSON(): ApiErrorPayload {
    return { code: this.code, message: this.message };
  }

  /** Anything thrown becomes an ApiError; unknown errors are `internal` but keep their message. */
  static from(error: unknown): ApiError {
    if (error instanceof ApiError) return error;
    if (isApiErrorPayload(error)) return new ApiError(error.code, error.message);
    const message = error instanceof Error ? error.message : String(error);
    return new ApiError('internal', message || 'internal error');
  }
}

export function isApiErrorPayload(value: unknown): value is ApiErrorPayload {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.message === 'string' && apiErrorCodes.includes(v.code as ApiErrorCode);
}

/** What crosses a transport: a result or a structured error (IPC would otherwise flatten error codes). */
export type Outcome<R = unknown> = { ok: true; result: R } | { ok: false; error: ApiErrorPayload };

/** Validates `rawArgs` for `method`; throws ApiError('invalid_argument') naming the method and the field. */
export function parseArgs<M extends MethodName>(method: M, rawArgs: unknown): ArgsOf<M> {
  const schema = methods[method].args as Schema<ArgsOf<M>>;
  try {
    return schema.parse(rawArgs === undefined ? {} : rawArgs, '');
  } catch (error) {
    if (error instanceof SchemaError) throw new ApiError('invalid_argument', `${method}: ${error.message}`);
    throw error;
  }
}

/**
 * The single entry point of both transports: checks the method name, validates the arguments, calls the
 * implementation. Throws ApiError (not_found for an unknown method, invalid_argument for bad arguments).
 */
export async function dispatch(impl: LikenessApi, method: string, rawArgs: unknown): Promise<unknown> {
  if (!isMethodName(method)) throw new ApiError('not_found', `Unknown method "${method.slice(0, 80)}"`);
  const args = parseArgs(method, rawArgs);
  const fn = impl[method] as (args: unknown) => Promise<unknown>;
  if (typeof fn !== 'function') throw new ApiError('unavailable', `${method} is not available here`);
  return fn.call(impl, args);
}

/** `dispatch`, with the outcome as data instead of a rejection. Never throws. */
export async function settle(impl: LikenessApi, method: string, rawArgs: unknown): Promise<Outcome> {
  try {
    return { ok: true, result: await dispatch(impl, method, rawArgs) };
  } catch (error) {
    return { ok: false, error: ApiError.from(error).toJSON() };
  }
}

/** Host methods for a shell that has no native side (browser mode). */
export function unavailableHostMethods(mode: 'electron' | 'browser'): HostApi {
  const unavailable = (what: string) => () =>
    Promise.reject(new ApiError('unavailable', `${what} is only available in the desktop app`));
  return {
    pickFolder: unavailable('The folder picker'),
    revealPhoto: unavailable('Reveal in file manager'),
    hostInfo: async () => ({ mode }),
  };
}
