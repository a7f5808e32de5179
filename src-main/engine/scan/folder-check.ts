/**
 * The safety checks a folder passes before it joins the library (one function, so every transport and
 * message builds on the same rules): it must exist and be a folder; it is stored by its real path (so
 * `/proc/self` cannot smuggle in a whole disk under another name); pseudo-filesystems are refused; the
 * filesystem root or a folder of more than LARGE_FOLDER_FILES files needs the caller's explicit `confirm`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidInputError, NeedsConfirmationError, NotFoundError } from '../errors';

export const LARGE_FOLDER_FILES = 100_000;

/** Kernel and device trees: never photos, and a way around the folder boundary (/proc/PID/root). */
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];
// statfs magic numbers of Linux pseudo-filesystems (wherever they are mounted)
const PSEUDO_FS = new Set([
  0x9fa0, // proc
  0x62656572, // sysfs
  0x1cd1, // devpts
  0x64626720, // debugfs
  0x73636673, // securityfs
  0x27e0eb, // cgroup
  0x63677270, // cgroup2
]);

export class FolderRefusedError extends InvalidInputError {}

/** The folder is acceptable but big: the caller must ask the user and pass `confirm`. */
export class FolderNeedsConfirmationError extends NeedsConfirmationError {
  constructor(
    message: string,
    readonly reason: 'root' | 'large',
  ) {
    super(message);
  }
}

const inside = (child: string, parent: string) =>
  child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

/** Counts files under `dir` (not following links), stopping once past `limit`. */
export function countFilesUpTo(dir: string, limit: number): number {
  let n = 0;
  const stack = [dir];
  while (stack.length && n <= limit) {
    const current = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(current, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (e.isDirectory()) stack.push(path.join(current, e.name));
      else n++;
    }
  }
  return n;
}

/**
 * Checks a folder the user wants to add and returns its real path (what the library stores).
 * Throws NotFoundError when it does not exist, FolderRefusedError for what can never
 * be added, FolderNeedsConfirmationError for the root or a huge folder unless `confirm` is set.
 */
export function checkNewFolder(dir: string, opts: { confirm?: boolean } = {}): string {
  let real: string;
  try {
    real = fs.realpathSync(path.resolve(dir));
    if (!fs.statSync(real).isDirectory()) throw new Error('not a folder');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new NotFoundError(`Cannot add ${dir}: no such folder`);
    throw new InvalidInputError(`Cannot add ${dir}: ${(err as Error).message}`);
  }
  // The given path counts too: /proc/self/root resolves to an innocent-looking "/".
  const given = path.resolve(dir);
  const pseudo =
    (process.platform !== 'win32' && PSEUDO_ROOTS.some((p) => inside(real, p) || inside(given, p))) ||
    PSEUDO_FS.has(Number(fs.statfsSync(real, { bigint: false }).type));
  if (pseudo)
    throw new FolderRefusedError(
      `Cannot add ${dir}${real !== dir ? ` (${real})` : ''}: it is a system folder (a view of the kernel or of devices), not photos`,
    );
  if (opts.confirm) return real;
  if (path.parse(real).root === real)
    throw new FolderNeedsConfirmationError(
      `${real} is the root of the whole disk: Likeness would read every file on it. Add it anyway?`,
      'root',
    );
  if (countFilesUpTo(real, LARGE_FOLDER_FILES) > LARGE_FOLDER_FILES)
    throw new FolderNeedsConfirmationError(
      `${real} holds more than ${LARGE_FOLDER_FILES.toLocaleString('en')} files: indexing it will take a long time. Add it anyway?`,
      'large',
    );
  return real;
}
