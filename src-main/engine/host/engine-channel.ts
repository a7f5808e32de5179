/**
 * The contract between threads or processes: the engine runs on one side (a worker thread in browser
 * mode, Electron's utility process in the app) and the serving side only forwards. Calls carry the raw
 * arguments and come back as the contract's Outcome (the engine side runs `settle`, the one dispatch);
 * events flow the other way. The engine side asks its host for the few things only the host can do
 * (moving a file to the OS trash) and sends its log lines there.
 */
import {
  ApiError,
  methodNames,
  settle,
  type EngineApi,
  type EventSource,
  type LikenessApi,
  type LikenessEvent,
  type Outcome,
} from '../api/contract';

/** One side of a message channel (worker_threads' MessagePort, Electron's MessagePortMain, parentPort). */
export interface Endpoint {
  post(message: ChannelMessage): void;
  listen(handler: (message: ChannelMessage) => void): void;
}

export type ChannelMessage =
  | { type: 'call'; id: number; method: string; args: unknown }
  | { type: 'outcome'; id: number; outcome: Outcome }
  | { type: 'event'; event: LikenessEvent }
  | { type: 'log'; message: string }
  | { type: 'trash'; id: number; path: string }
  | { type: 'trashed'; id: number; error?: string }
  | { type: 'close' }
  | { type: 'closed' }
  /** the engine side answers calls from now on */
  | { type: 'ready' };

/** Engine side: answers calls with `settle` on `api`, forwards its events, closes on request; says it is ready. */
export function serveEngine(
  endpoint: Endpoint,
  host: { api: LikenessApi | EngineApi; events: EventSource; close(): Promise<void> },
): void {
  host.events.subscribe((event) => endpoint.post({ type: 'event', event }));
  endpoint.listen((m) => {
    if (m.type === 'call')
      void settle(host.api as LikenessApi, m.method, m.args).then((outcome) =>
        endpoint.post({ type: 'outcome', id: m.id, outcome }),
      );
    else if (m.type === 'close') void host.close().finally(() => endpoint.post({ type: 'closed' }));
  });
  endpoint.post({ type: 'ready' });
}

/** Engine side: the host services (trash, log) the engine's options ask for, over the channel. */
export function hostServices(endpoint: Endpoint): {
  trash: (path: string) => Promise<void>;
  log: (message: string) => void;
} {
  let next = 0;
  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  endpoint.listen((m) => {
    if (m.type !== 'trashed') return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error === undefined) p?.resolve();
    else p?.reject(new Error(m.error));
  });
  return {
    trash: (path) =>
      new Promise((resolve, reject) => {
        const id = ++next;
        pending.set(id, { resolve, reject });
        endpoint.post({ type: 'trash', id, path });
      }),
    log: (message) => endpoint.post({ type: 'log', message }),
  };
}

export interface RemoteEngine {
  /** resolves when the engine side answers calls; rejects if it is lost before that */
  ready: Promise<void>;
  /** the contract, each method forwarded; a failure comes back as the engine's ApiError */
  api: EngineApi;
  events: EventSource;
  /** asks the engine to close (jobs stop at a resumable point) and waits for it */
  close(): Promise<void>;
  /** the engine side is gone (crashed or exited): pending and later calls fail 'unavailable' */
  lost(reason: string): void;
}

/** Serving side: the contract as calls over `endpoint`, and the host services the engine asks for. */
export function connectEngine(
  endpoint: Endpoint,
  services: { trash: (path: string) => Promise<void>; log: (message: string) => void },
): RemoteEngine {
  let next = 0;
  let gone: string | null = null;
  const calls = new Map<number, (outcome: Outcome) => void>();
  const listeners = new Set<(event: LikenessEvent) => void>();
  let closed: (() => void) | null = null;
  let started: { resolve: () => void; reject: (e: Error) => void } | null = null;
  const ready = new Promise<void>((resolve, reject) => (started = { resolve, reject }));
  endpoint.listen((m) => {
    if (m.type === 'ready') started?.resolve();
    else if (m.type === 'outcome') {
      calls.get(m.id)?.(m.outcome);
      calls.delete(m.id);
    } else if (m.type === 'event') for (const l of [...listeners]) l(m.event);
    else if (m.type === 'log') services.log(m.message);
    else if (m.type === 'trash')
      services.trash(m.path).then(
        () => endpoint.post({ type: 'trashed', id: m.id }),
        (e: Error) => endpoint.post({ type: 'trashed', id: m.id, error: e.message || String(e) }),
      );
    else if (m.type === 'closed') closed?.();
  });
  const call = (method: string, args: unknown): Promise<unknown> => {
    if (gone) return Promise.reject(new ApiError('unavailable', gone));
    const id = ++next;
    return new Promise<Outcome>((resolve) => {
      calls.set(id, resolve);
      endpoint.post({ type: 'call', id, method, args });
    }).then((o) => {
      if (o.ok) return o.result;
      throw new ApiError(o.error.code, o.error.message);
    });
  };
  const api = Object.fromEntries(
    methodNames.map((m) => [m, (args: unknown) => call(m, args)]),
  ) as unknown as EngineApi;
  let closing: Promise<void> | undefined;
  return {
    ready,
    api,
    events: {
      subscribe(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    close: () =>
      (closing ??= gone
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            closed = resolve;
            endpoint.post({ type: 'close' });
          })),
    lost(reason) {
      gone = `The engine stopped: ${reason}`;
      started?.reject(new Error(reason));
      for (const resolve of calls.values())
        resolve({ ok: false, error: { code: 'unavailable', message: gone } });
      calls.clear();
      closed?.();
    },
  };
}
