/**
 * What the preload exposes as `window.likeness`, generated from the contract's method list (no per-method
 * code): each method is one `ipcRenderer.invoke('likeness:<method>', args)` answering an Outcome, plus
 * `onEvent`. Kept apart from preload.ts (which only touches electron) so tests can build it with a fake.
 */
import {
  IPC_EVENT_CHANNEL,
  ipcChannel,
  methodNames,
  type LikenessBridge,
  type LikenessEvent,
  type Outcome,
} from '../engine/api/contract';

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export function buildBridge(ipcRenderer: IpcRendererLike): LikenessBridge {
  const bridge: Record<string, unknown> = {};
  for (const method of methodNames) {
    // Only the argument object crosses; the renderer can never pick the channel.
    bridge[method] = (args?: unknown) => ipcRenderer.invoke(ipcChannel(method), args) as Promise<Outcome>;
  }
  bridge.onEvent = (listener: (event: LikenessEvent) => void) => {
    const handler = (_event: unknown, payload: unknown) => listener(payload as LikenessEvent);
    ipcRenderer.on(IPC_EVENT_CHANNEL, handler);
    return () => void ipcRenderer.removeListener(IPC_EVENT_CHANNEL, handler);
  };
  return Object.freeze(bridge) as LikenessBridge;
}
