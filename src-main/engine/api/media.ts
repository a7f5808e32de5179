/**
 * How a transport gets a photo's pixels: only by numeric photo id, never by a path from the renderer.
 * The engine implements ImageSource; the HTTP server (`/media/<kind>/<id>`) and Electron's
 * `likeness-media://<kind>/<id>` protocol both parse requests with `parseMediaId`.
 */
export type MediaKind = 'thumb' | 'full';

export interface ImageSource {
  /** A small JPEG/WebP of the photo; rejects with ApiError('not_found') for an unknown id. */
  thumbnail(photoId: number): Promise<{ bytes: Uint8Array; type: string }>;
  /** The original file (by its path in the library) or converted bytes (e.g. HEIC → JPEG). */
  original(photoId: number): Promise<{ path: string; type: string } | { bytes: Uint8Array; type: string }>;
}

export function isMediaKind(kind: string): kind is MediaKind {
  return kind === 'thumb' || kind === 'full';
}

/** A photo id as written in a media URL: digits only, no sign, no leading zero, a safe integer. */
export function parseMediaId(segment: string): number | null {
  if (!/^[1-9][0-9]{0,15}$/.test(segment)) return null;
  const id = Number(segment);
  return Number.isSafeInteger(id) ? id : null;
}
