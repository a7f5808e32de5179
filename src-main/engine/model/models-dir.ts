/**
 * Where the backbone models are, at run time:
 *   1. LIKENESS_MODELS_DIR;
 *   2. the packaged app: `<process.resourcesPath>/models`, shipped by electron-builder's `extraResources`
 *      outside app.asar (ONNX Runtime's native loader cannot read files inside an asar archive);
 *   3. from a checkout or an npm install: `resources/models` in the project root above this module
 *      (src-main/engine/model under tsx, dist/main when bundled).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { envValue } from '../config';

export interface ModelsDirContext {
  env?: NodeJS.ProcessEnv;
  /** Electron's process.resourcesPath; undefined under plain Node */
  resourcesPath?: string;
  /** where to start looking for the project root */
  from?: string;
}

export function resolveModelsDir(ctx: ModelsDirContext = {}): string {
  const configured = envValue('LIKENESS_MODELS_DIR', ctx.env);
  if (configured) return path.resolve(configured);
  const resourcesPath =
    'resourcesPath' in ctx
      ? ctx.resourcesPath
      : (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath;
  if (resourcesPath) {
    const packaged = path.join(resourcesPath, 'models');
    if (fs.existsSync(packaged)) return packaged;
  }
  let dir = ctx.from ?? path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'resources'))) {
      return path.join(dir, 'resources', 'models');
    }
    dir = path.dirname(dir);
  }
  return path.resolve('resources', 'models');
}
