import os from 'node:os';
import path from 'node:path';
import { envValue } from '../config';

/**
 * Where the library (database, index, thumbnails) lives unless `--db DIR` or LIKENESS_DB says otherwise.
 * Electron and `likeness serve` use the same place so both modes open the same library.
 */
export function defaultLibraryDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  const configured = envValue('LIKENESS_DB', env);
  if (configured) return path.resolve(configured);
  const home = os.homedir();
  if (platform === 'win32')
    return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Likeness', 'library');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Likeness', 'library');
  return path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'likeness', 'library');
}
