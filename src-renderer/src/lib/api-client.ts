/**
 * The renderer's one way to talk to Likeness. `createApi()` picks the transport:
 *  - Electron: `window.likeness`, the preload's bridge (IPC);
 *  - browser mode: `POST /api/<method>` with the per-run token, events over the WebSocket `/events`.
 * Either way the UI sees the same typed `LikenessClient`, `onEvent` and `mediaUrl`.
 */
import {
  ApiError,
  BRIDGE_KEY,
  MEDIA_SCHEME,
  isApiErrorPayload,
  methodNames,
  type EventName,
  type EventPayloads,
  type LikenessBridge,
  type LikenessClient,
  type LikenessEvent,
  type MethodName,
  type Outcome,
} from '../../../src-main/engine/api/contract';
import type { MediaKind } from '../../../src-main/engine/api/media';

export {
  ApiError,
  COPY_THRESHOLD_RANGE,
  DEFAULT_COPY_THRESHOLD,
  MAX_IDS_PER_CALL,
} from '../../../src-main/engine/api/contract';
export type * from '../../../src-main/engine/api/contract';
export type { MediaKind } from '../../../src-main/engine/api/media';

export type Unsubscribe = () => void;

export type Api = LikenessClient & {
  readonly mode: 'electron' | 'browser';
  /** Calls `listener` for every event `name` until the returned function is called. */
  onEvent<E extends EventName>(name: E, listener: (data: EventPayloads[E]) => void): Unsubscribe;
  /** URL for an <img src>: a thumbnail or the full image of a library photo. */
  mediaUrl(kind: MediaKind, photoId: number): string;
};

/** What the client needs from its surroundings; injectable so the browser transport can be tested in node. */
export interface ClientEnv {
  bridge?: LikenessBridge;
  location: { protocol: string; host: string; search: string; pathname: string; hash: string };
  history?: { replaceState(data: unknown, unused: string, url?: string): void };
  storage?: { getItem(key: string): string | null; setItem(key: string, value: string): void };
  fetch: typeof fetch;
  WebSocket?: new (url: string) => WebSocketLike;
  /** tabs of this origin (BroadcastChannel): how a new tab gets the token from an open one */
  channel?: () => ChannelLike;
}

export interface ChannelLike {
  onmessage: ((ev: { data: unknown }) => void) | null;
  postMessage(message: unknown): void;
}

export interface WebSocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(): void;
}

const TOKEN_KEY = 'likeness.token';

export function createApi(env: ClientEnv = browserEnv()): Api {
  const transport = env.bridge ? electronTransport(env.bridge) : httpTransport(env);
  const api = {} as Record<MethodName, (args?: unknown) => Promise<unknown>>;
  for (const name of methodNames) api[name] = (args?: unknown) => transport.call(name, args ?? {});
  return Object.freeze({
    ...(api as unknown as LikenessClient),
    mode: env.bridge ? 'electron' : 'browser',
    onEvent: <E extends EventName>(name: E, listener: (data: EventPayloads[E]) => void) =>
      transport.subscribe((event) => {
        if (event.event === name) listener(event.data as EventPayloads[E]);
      }),
    mediaUrl: (kind: MediaKind, photoId: number) => transport.mediaUrl(kind, photoId),
  } satisfies Api);
}

function browserEnv(): ClientEnv {
  const w = globalThis as unknown as Window & { [BRIDGE_KEY]?: LikenessBridge };
  return {
    bridge: w[BRIDGE_KEY],
    location: w.location,
    history: w.history,
    storage: w.sessionStorage,
    fetch: w.fetch.bind(w),
    WebSocket: globalThis.WebSocket as unknown as ClientEnv['WebSocket'],
    channel:
      typeof BroadcastChannel === 'function'
        ? () => new BroadcastChannel(TOKEN_KEY) as unknown as ChannelLike
        : undefined,
  };
}

interface Transport {
  call(method: MethodName, args: unknown): Promise<unknown>;
  subscribe(listener: (event: LikenessEvent) => void): Unsubscribe;
  mediaUrl(kind: MediaKind, photoId: number): string;
}

function unwrap(outcome: Outcome): unknown {
  if (outcome.ok) return outcome.result;
  throw new ApiError(outcome.error.code, outcome.error.message);
}

function electronTransport(bridge: LikenessBridge): Transport {
  return {
    call: async (method, args) => unwrap(await bridge[method](args)),
    subscribe: (listener) => bridge.onEvent(listener),
    mediaUrl: (kind, photoId) => `${MEDIA_SCHEME}://${kind}/${photoId}`,
  };
}

function httpTransport(env: ClientEnv): Transport {
  const origin = `${env.location.protocol}//${env.location.host}`;
  const token = tokenSource(env);
  const events = eventStream(env, token);

  return {
    async call(method, args) {
      const body = JSON.stringify(args);
      const bearer = await token.get();
      let response: Response;
      try {
        response = await env.fetch(`${origin}/api/${method}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${bearer}` },
          body,
        });
      } catch {
        throw new ApiError(
          'unavailable',
          'The Likeness server is not reachable (was `likeness serve` stopped?)',
        );
      }
      const payload: unknown = await response.json().catch(() => undefined);
      if (response.ok) return payload;
      const error = (payload as { error?: unknown } | undefined)?.error;
      if (isApiErrorPayload(error)) throw new ApiError(error.code, error.message);
      throw new ApiError('internal', `${method}: HTTP ${response.status}`);
    },
    subscribe: (listener) => events.add(listener),
    // <img> requests carry the HttpOnly cookie set when the page was opened with the token.
    mediaUrl: (kind, photoId) => `/media/${kind}/${photoId}`,
  };
}

/** How long a new tab waits for an open tab to share the token. */
const ASK_TABS_MS = 1500;

/**
 * The token arrives once in the page URL (`?token=`); it is kept in sessionStorage and removed from the
 * address bar. A new tab asks the open tabs of its origin over a BroadcastChannel (which never crosses
 * origins, ports included); no cookie and no URL of the server ever hands the token out.
 */
function tokenSource(env: ClientEnv) {
  const params = new URLSearchParams(env.location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    env.storage?.setItem(TOKEN_KEY, fromUrl);
    params.delete('token');
    const query = params.toString();
    env.history?.replaceState(
      null,
      '',
      `${env.location.pathname}${query ? `?${query}` : ''}${env.location.hash}`,
    );
  }
  const stored = () => env.storage?.getItem(TOKEN_KEY) ?? null;
  const known = fromUrl ?? stored();
  let token: Promise<string> | undefined = known ? Promise.resolve(known) : undefined;
  const channel = env.channel?.();
  let answer: ((t: string) => void) | undefined;
  if (channel)
    channel.onmessage = ({ data }) => {
      const t = stored();
      if (data === 'ask' && t) channel.postMessage({ token: t });
      const offered = (data as { token?: unknown } | null)?.token;
      if (typeof offered === 'string') answer?.(offered);
    };
  const askTabs = () =>
    new Promise<string>((resolve, reject) => {
      if (!channel) return reject(new Error('no channel'));
      const timer = setTimeout(() => reject(new Error('no tab answered')), ASK_TABS_MS);
      answer = (t) => {
        clearTimeout(timer);
        answer = undefined;
        env.storage?.setItem(TOKEN_KEY, t);
        resolve(t);
      };
      channel.postMessage('ask');
    });
  return {
    get(): Promise<string> {
      token ??= askTabs().catch(() => {
        token = undefined;
        throw new ApiError('unauthorized', 'Not signed in: open the address printed by `likeness serve`');
      });
      return token;
    },
  };
}

/** One shared WebSocket, opened on the first subscription and reopened with backoff when it drops. */
function eventStream(env: ClientEnv, token: { get(): Promise<string> }) {
  const listeners = new Set<(event: LikenessEvent) => void>();
  let socket: WebSocketLike | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let delay = 500;
  let dropped = false;

  const emit = (event: LikenessEvent) => {
    for (const listener of [...listeners]) listener(event);
  };

  async function connect(): Promise<void> {
    if (!env.WebSocket || socket || listeners.size === 0) return;
    let t: string;
    try {
      t = await token.get();
    } catch {
      return scheduleReconnect();
    }
    if (socket || listeners.size === 0) return;
    const scheme = env.location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new env.WebSocket(`${scheme}://${env.location.host}/events?token=${encodeURIComponent(t)}`);
    socket = ws;
    ws.onopen = () => {
      delay = 500;
      // Events may have been missed while disconnected: tell the UI to refetch what it shows.
      if (dropped) emit({ event: 'library.changed', data: { reason: 'reconnected' } });
      dropped = false;
    };
    ws.onmessage = (message) => {
      try {
        const event = JSON.parse(String(message.data)) as LikenessEvent;
        if (event && typeof event.event === 'string') emit(event);
      } catch {
        // not ours; ignore
      }
    };
    ws.onerror = () => ws.close();
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = undefined;
      dropped = true;
      scheduleReconnect();
    };
  }

  function scheduleReconnect(): void {
    if (retry || listeners.size === 0) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, delay);
    delay = Math.min(delay * 2, 15_000);
  }

  return {
    add(listener: (event: LikenessEvent) => void): Unsubscribe {
      listeners.add(listener);
      void connect();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          if (retry) clearTimeout(retry);
          retry = undefined;
          const s = socket;
          socket = undefined;
          s?.close();
        }
      };
    },
  };
}
