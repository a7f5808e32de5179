/**
 * Remembers the main window's size, position and maximised state between runs, and ignores a saved
 * position that no longer lies on any display (a monitor was unplugged).
 */
import fs from 'node:fs';

export interface WindowState {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

const DEFAULT: WindowState = { width: 1280, height: 840, maximized: false };

export function loadWindowState(file: string, displays: Rect[]): WindowState {
  let saved: Partial<WindowState>;
  try {
    saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<WindowState>;
  } catch {
    return { ...DEFAULT };
  }
  const num = (v: unknown, min: number) =>
    typeof v === 'number' && Number.isFinite(v) && v >= min ? Math.round(v) : undefined;
  const state: WindowState = {
    width: num(saved.width, 400) ?? DEFAULT.width,
    height: num(saved.height, 300) ?? DEFAULT.height,
    maximized: saved.maximized === true,
  };
  const x = num(saved.x, -100_000);
  const y = num(saved.y, -100_000);
  // Keep the position only if the window's title bar area would be visible on some display.
  const visible =
    x !== undefined &&
    y !== undefined &&
    displays.some((d) => x + 100 > d.x && x + 100 < d.x + d.width && y >= d.y && y + 40 < d.y + d.height);
  return visible ? { ...state, x, y } : state;
}

export interface TrackableWindow {
  getNormalBounds(): Rect;
  isMaximized(): boolean;
  on(event: 'resize' | 'move' | 'close', listener: () => void): unknown;
}

export function trackWindowState(win: TrackableWindow, file: string): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const save = () => {
    const b = win.getNormalBounds();
    const state: WindowState = {
      x: b.x,
      y: b.y,
      width: b.width,
      height: b.height,
      maximized: win.isMaximized(),
    };
    try {
      fs.writeFileSync(file, JSON.stringify(state));
    } catch {
      // losing the window position is not worth an error dialog
    }
  };
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(save, 500);
  };
  win.on('resize', later);
  win.on('move', later);
  win.on('close', () => {
    clearTimeout(timer);
    save();
  });
}
