import path from 'node:path';

/** Whether `child` is `parent` or lies anywhere under it (both absolute, real paths). */
export function isInsideFolder(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
}
