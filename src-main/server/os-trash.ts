/**
 * Moving a file to the OS trash without Electron (browser mode). Linux follows the freedesktop.org trash
 * spec for the home trash (so the file manager can restore it); macOS moves it into ~/.Trash. Anything we
 * cannot do safely (Windows, another filesystem) is refused: a photo is never hard-deleted.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiError } from '../engine/api/contract';

export async function moveToTrash(
  file: string,
  platform = process.platform,
  env = process.env,
): Promise<void> {
  const absolute = path.resolve(file);
  await fs.access(absolute).catch(() => {
    throw new ApiError('not_found', `${absolute} does not exist`);
  });
  if (platform === 'linux')
    return freedesktopTrash(
      absolute,
      path.join(env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share'), 'Trash'),
    );
  if (platform === 'darwin') return renameInto(absolute, path.join(os.homedir(), '.Trash'));
  throw new ApiError(
    'unavailable',
    'Moving to the trash from browser mode is not supported on this system; use the desktop app',
  );
}

async function freedesktopTrash(file: string, trashDir: string): Promise<void> {
  const filesDir = path.join(trashDir, 'files');
  const infoDir = path.join(trashDir, 'info');
  await fs.mkdir(filesDir, { recursive: true, mode: 0o700 });
  await fs.mkdir(infoDir, { recursive: true, mode: 0o700 });
  const info = `[Trash Info]\nPath=${encodeURI(file)}\nDeletionDate=${localIsoSeconds(new Date())}\n`;
  const { name, handle } = await reserveInfo(infoDir, path.basename(file));
  try {
    await handle.writeFile(info);
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(file, path.join(filesDir, name));
  } catch (error) {
    await fs.rm(path.join(infoDir, `${name}.trashinfo`), { force: true });
    throw trashError(file, error);
  }
}

/** The .trashinfo file is created exclusively first: that is the spec's way to claim a unique name. */
async function reserveInfo(infoDir: string, base: string): Promise<{ name: string; handle: fs.FileHandle }> {
  for (let i = 0; i < 1000; i++) {
    const name = i === 0 ? base : uniqueName(base, i);
    try {
      return { name, handle: await fs.open(path.join(infoDir, `${name}.trashinfo`), 'wx', 0o600) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new ApiError('internal', `Could not find a free name in the trash for ${base}`);
}

async function renameInto(file: string, dir: string): Promise<void> {
  const base = path.basename(file);
  for (let i = 0; i < 1000; i++) {
    const target = path.join(dir, i === 0 ? base : uniqueName(base, i));
    const taken = await fs.access(target).then(
      () => true,
      () => false,
    );
    if (taken) continue;
    try {
      return await fs.rename(file, target);
    } catch (error) {
      throw trashError(file, error);
    }
  }
  throw new ApiError('internal', `Could not find a free name in the trash for ${base}`);
}

function uniqueName(base: string, i: number): string {
  const ext = path.extname(base);
  return `${base.slice(0, base.length - ext.length)}.${i}${ext}`;
}

function trashError(file: string, error: unknown): ApiError {
  if ((error as NodeJS.ErrnoException).code === 'EXDEV') {
    return new ApiError(
      'unavailable',
      `${file} is on another drive than the trash; use the desktop app to trash it`,
    );
  }
  return new ApiError('internal', `Could not move ${file} to the trash: ${(error as Error).message}`);
}

function localIsoSeconds(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
