/**
 * Electron's main process: starts the engine in a utility process (engine-in-utility.ts), maps the
 * contract onto IPC, serves the renderer and the
 * photos through custom protocols, and keeps the window locked down (context isolation, sandbox, no node,
 * strict CSP, no navigation, no new windows). Quitting while indexing stops the engine at a resumable
 * point first, so the next start carries on.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  protocol,
  screen,
  session,
  shell,
  type WebContents,
} from 'electron';
import type { HostApi, LikenessApi } from '../engine/api/contract';
import type { EngineHost } from '../engine/api/engine-api';
import { defaultLibraryDir } from '../engine/api/library-dir';
import { envValue } from '../engine/config';
import { APP_INDEX, appSchemePrivileges, isAppUrl, registerAppProtocol } from './app-protocol';
import { FolderGrants, grantedAddFolder } from './folder-grants';
import { createEngineInUtilityProcess } from './engine-in-utility';
import { forwardEvents, registerIpc } from './ipc';
import { mediaSchemePrivileges, registerMediaProtocol } from './media-protocol';
import { loadWindowState, trackWindowState } from './window-state';

// Bundled layout: dist/main/electron-main.js, dist/main/preload.cjs, dist/renderer/.
const here = path.dirname(fileURLToPath(import.meta.url));
const PRELOAD = path.join(here, 'preload.cjs');
const RENDERER_DIR = envValue('LIKENESS_RENDERER_DIR') ?? path.join(here, '..', 'renderer');

protocol.registerSchemesAsPrivileged([appSchemePrivileges, mediaSchemePrivileges]);

let mainWindow: BrowserWindow | null = null;
let engine: EngineHost | null = null;

if (!app.requestSingleInstanceLock()) {
  // Another Likeness already has the library open: it gets focus (below) and this one leaves.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  lockDownWebContents();
  quitCleanly();
  app.whenReady().then(start, fatal);
}

async function start(): Promise<void> {
  // Deny every permission (camera, notifications, …): the renderer needs none.
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  engine = await createEngineInUtilityProcess({
    dbDir: defaultLibraryDir(),
    trash: (file) => shell.trashItem(file),
  });
  const grants = new FolderGrants();
  const api: LikenessApi = {
    ...engine.api,
    addFolder: grantedAddFolder(engine.api.addFolder, grants),
    ...hostMethods(engine, grants),
  };

  registerAppProtocol(protocol, RENDERER_DIR);
  registerMediaProtocol(protocol, engine.images);
  registerIpc(ipcMain, api, { isTrustedSender: isAppUrl });
  forwardEvents(engine.events, () => BrowserWindow.getAllWindows().map((w) => w.webContents));

  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
}

function hostMethods(host: EngineHost, grants: FolderGrants): HostApi {
  return {
    pickFolder: async () => {
      const options = { title: 'Add a photo folder', properties: ['openDirectory' as const] };
      const result = mainWindow
        ? await dialog.showOpenDialog(mainWindow, options)
        : await dialog.showOpenDialog(options);
      const picked = result.canceled ? null : (result.filePaths[0] ?? null);
      if (picked) grants.grant(picked);
      return { path: picked };
    },
    revealPhoto: async ({ photoId }) => {
      // The path comes from the library, not from the renderer.
      const photo = await host.api.getPhoto({ photoId });
      shell.showItemInFolder(photo.path);
      return { revealed: true };
    },
    hostInfo: async () => ({ mode: 'electron' }),
  };
}

function createWindow(): void {
  const stateFile = path.join(app.getPath('userData'), 'window-state.json');
  const state = loadWindowState(
    stateFile,
    screen.getAllDisplays().map((d) => d.workArea),
  );
  const win = new BrowserWindow({
    ...state,
    minWidth: 720,
    minHeight: 480,
    show: false,
    title: 'Likeness',
    backgroundColor: '#15161a',
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  if (state.maximized) win.maximize();
  trackWindowState(win, stateFile);
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  mainWindow = win;
  void win.loadURL(APP_INDEX);
}

/** Every renderer, present or future: no navigation away from the app, no new windows, no <webview>. */
function lockDownWebContents(): void {
  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    const stayHome = (event: { preventDefault(): void }, url: string) => {
      if (!isAppUrl(url)) event.preventDefault();
    };
    contents.on('will-navigate', stayHome);
    contents.on('will-redirect', stayHome);
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
}

/** Stops the engine (indexing pauses at a resumable point, the database closes) before the process exits. */
function quitCleanly(): void {
  let state: 'running' | 'closing' | 'closed' = 'running';
  app.on('before-quit', (event) => {
    if (state === 'closed' || !engine) return;
    event.preventDefault();
    if (state === 'closing') return;
    state = 'closing';
    engine
      .close()
      .catch((error: unknown) => console.error('Likeness: error while closing the library:', error))
      .finally(() => {
        state = 'closed';
        app.quit();
      });
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}

function fatal(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  console.error('Likeness could not start:', error);
  dialog.showErrorBox('Likeness could not start', message);
  app.exit(1);
}
