/**
 * The sandboxed preload (bundled to CommonJS: sandboxed preloads cannot be ES modules). It exposes exactly
 * the contract as `window.likeness` and nothing else: no ipcRenderer, no node.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_KEY } from '../engine/api/contract';
import { buildBridge } from './bridge';

contextBridge.exposeInMainWorld(BRIDGE_KEY, buildBridge(ipcRenderer));
