/**
 * Which files the media transports may hand out: only decoded (indexed) photos, and only while their real
 * path is still inside their library folder, or inside a symbolic-linked subfolder of it that the walk
 * followed. A file that was swapped for a link to elsewhere after indexing is refused.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

const inside = (child: string, parent: string) =>
  child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

/** The real path of `file` if it may be served as a photo of `folder`, else null. */
export async function servablePath(file: string, folder: string): Promise<string | null> {
  const rel = path.relative(folder, path.dirname(file));
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  try {
    const real = await fs.realpath(file);
    if (!(await fs.stat(real)).isFile()) return null;
    const roots = [await fs.realpath(folder)];
    // Linked subfolders between the folder and the file: the user put them in the library.
    let dir = folder;
    for (const part of rel.split(path.sep).filter(Boolean)) {
      dir = path.join(dir, part);
      if ((await fs.lstat(dir)).isSymbolicLink()) roots.push(await fs.realpath(dir));
    }
    return roots.some((root) => inside(real, root)) ? real : null;
  } catch {
    return null;
  }
}
