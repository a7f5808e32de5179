/**
 * Photo pixels for the transports, by photo id only: the path comes from the database, never from the
 * client. Thumbnails are the WebP files the indexer wrote; originals are the files themselves when a
 * browser can show them, else (HEIC, TIFF) a JPEG made on the fly.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { openImage } from '../decode/decode-image';
import type { PhotoRow } from '../store/types';
import { ApiError } from './contract';
import type { ImageSource } from './media';
import { servablePath } from './media-access';

/** Formats every browser (and Electron) displays as they are. */
const NATIVE_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.bmp': 'image/bmp',
};
/** Longest side of an original converted for display. */
const CONVERTED_SIZE = 2560;

/** What serving images needs: the photo's row (its path, its status) and where its thumbnail is. */
export interface PhotoFiles {
  getPhoto(id: number): PhotoRow | undefined;
  /** the library folder's path (photos are served only from inside it) */
  folderPath(folderId: number): string | undefined;
  thumbnailPath(id: number): string;
}

export function libraryImages(library: () => Promise<PhotoFiles>): ImageSource {
  // Only decoded photos: a file that failed to decode (a text file named .jpg, a link to one) is never served.
  const photoOf = async (photoId: number) => {
    const lib = await library();
    const photo = lib.getPhoto(photoId);
    if (!photo || photo.status !== 'indexed') throw new ApiError('not_found', `No photo with id ${photoId}`);
    return { lib, photo };
  };
  return {
    async thumbnail(photoId) {
      const { lib } = await photoOf(photoId);
      try {
        return { bytes: await fs.readFile(lib.thumbnailPath(photoId)), type: 'image/webp' };
      } catch {
        // Not indexed yet (or its thumbnail was lost): the grid shows a placeholder.
        throw new ApiError('not_found', `Photo ${photoId} has no thumbnail yet`);
      }
    },
    async original(photoId) {
      const { lib, photo } = await photoOf(photoId);
      const folder = lib.folderPath(photo.folderId);
      const real = folder && (await servablePath(photo.path, folder));
      if (!real) throw new ApiError('not_found', `Photo ${photoId} is no longer inside its library folder`);
      const type = NATIVE_TYPES[path.extname(photo.path).toLowerCase()];
      if (type) return { path: real, type };
      return { bytes: await displayJpeg(real), type: 'image/jpeg' };
    },
  };
}

/** A JPEG of a photo in a format browsers cannot show (TIFF, HEIC…), decoded as the indexer decodes it. */
async function displayJpeg(file: string): Promise<Uint8Array> {
  const img = await openImage(await fs.readFile(file));
  return img
    .rotate()
    .resize(CONVERTED_SIZE, CONVERTED_SIZE, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 88 })
    .toBuffer();
}
