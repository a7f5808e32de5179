/**
 * The contract over Electron IPC: one `ipcMain.handle('likeness:<method>')` per contract method, all going
 * through `settle` (so validation happens in `dispatch`, exactly as in browser mode), and engine events
 * forwarded to the renderer on one channel. Takes its IPC objects as parameters so tests can drive it.
 */
import {
  IPC_EVENT_CHANNEL,
  ipcChannel,
  methodNames,
  settle,
  type EventSource,
  type LikenessApi,
  type LikenessEvent,
  type Outcome,
} from '../engine/api/contract';

export interface IpcMainLike {
  handle(
    channel: string,
    listener: (event: { senderFrame?: { url: string } | null }, ...args: unknown[]) => unknown,
  ): void;
  removeHandler(channel: string): void;
}

export interface IpcOptions {
  /** Only our own pages may call the API (Electron security checklist: validate the sender of IPC). */
  isTrustedSender?: (url: string) => boolean;
}

/** Registers every contract method; returns a function that removes them again. */
export function registerIpc(ipcMain: IpcMainLike, api: LikenessApi, options: IpcOptions = {}): () => void {
  for (const method of methodNames) {
    ipcMain.handle(ipcChannel(method), (event, args): Promise<Outcome> | Outcome => {
      const url = event.senderFrame?.url ?? '';
      if (options.isTrustedSender && !options.isTrustedSender(url)) {
        return {
          ok: false,
          error: { code: 'unauthorized', message: `IPC from an untrusted page (${url.slice(0, 100)})` },
        };
      }
      return settle(api, method, args);
    });
  }
  return () => {
    for (const method of methodNames) ipcMain.removeHandler(ipcChannel(method));
  };
}

/** Sends every engine event to the renderer(s) `targets()` returns. */
export function forwardEvents(
  events: EventSource,
  targets: () => Iterable<{ isDestroyed(): boolean; send(channel: string, event: LikenessEvent): void }>,
): () => void {
  return events.subscribe((event) => {
    for (const target of targets()) if (!target.isDestroyed()) target.send(IPC_EVENT_CHANNEL, event);
  });
}
