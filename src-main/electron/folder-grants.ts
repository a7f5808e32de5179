/**
 * In the app, the renderer may add only folders the user picked in the native dialog (or dropped onto the
 * window): a compromised page cannot call addFolder with a path of its choosing. The main process records
 * each picked path; addFolder refuses any other. Kept free of electron imports so it can be tested in Node.
 */
import path from 'node:path';
import { ApiError, type EngineApi } from '../engine/api/contract';

export class FolderGrants {
  private readonly granted = new Set<string>();

  /** Called by the main process with a path from the dialog or from a dropped file. */
  grant(folder: string): void {
    this.granted.add(path.resolve(folder));
  }

  allows(folder: string): boolean {
    return this.granted.has(path.resolve(folder));
  }
}

/** addFolder that accepts only granted paths; everything else (validation, confirmation) is the engine's. */
export function grantedAddFolder(
  addFolder: EngineApi['addFolder'],
  grants: FolderGrants,
): EngineApi['addFolder'] {
  return async (args) => {
    if (!grants.allows(args.path))
      throw new ApiError(
        'invalid_argument',
        'Choose the folder with “Add folder…” (the folder picker) or drop it on the window',
      );
    return addFolder(args);
  };
}
