/**
 * Turning a dropped, pasted or picked file into a searchByImage argument, with the checks a user can
 * understand before anything is sent: not an image, empty, or too large.
 */
import { MAX_QUERY_IMAGE_BYTES } from '../../../src-main/engine/api/contract';
import { formatBytes } from './format';

const IMAGE_NAME = /\.(jpe?g|png|webp|gif|avif|tiff?|bmp|heic|heif)$/i;

export class QueryFileError extends Error {}

export function checkQueryFile(file: { name: string; type: string; size: number }): void {
  const name = file.name || 'The pasted file';
  const looksLikeImage = file.type ? file.type.startsWith('image/') : IMAGE_NAME.test(file.name);
  if (!looksLikeImage)
    throw new QueryFileError(
      `${name} is not an image${file.type ? ` (it is ${file.type})` : ''}. Drop a photo instead.`,
    );
  if (file.size === 0) throw new QueryFileError(`${name} is empty.`);
  if (file.size > MAX_QUERY_IMAGE_BYTES)
    throw new QueryFileError(
      `${name} is too large to search with (${formatBytes(file.size)}; the limit is ${formatBytes(MAX_QUERY_IMAGE_BYTES)}).`,
    );
}

/** The file's bytes as plain base64 (no data: prefix). */
export async function fileToBase64(file: Blob): Promise<string> {
  const buffer = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < buffer.length; i += CHUNK) {
    binary += String.fromCharCode(...buffer.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}
