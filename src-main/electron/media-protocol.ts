/**
 * Electron's image route: `likeness-media://thumb/<photoId>` and `likeness-media://full/<photoId>`. Like the
 * browser-mode route it takes only a numeric id of a library photo, never a path. `mediaResponse` uses only
 * the web Response type, so it is tested in node.
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { ApiError, MEDIA_SCHEME } from '../engine/api/contract';
import { isMediaKind, parseMediaId, type ImageSource } from '../engine/api/media';

const notFound = () => new Response('Not found', { status: 404, headers: { 'Content-Type': 'text/plain' } });

export async function mediaResponse(requestUrl: string, images: ImageSource): Promise<Response> {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return notFound();
  }
  if (url.protocol !== `${MEDIA_SCHEME}:` || url.search || url.hash || !isMediaKind(url.hostname))
    return notFound();
  const id = parseMediaId(url.pathname.slice(1));
  if (id === null) return notFound();
  try {
    const image = url.hostname === 'thumb' ? await images.thumbnail(id) : await images.original(id);
    const headers = {
      'Content-Type': /^image\/[a-z0-9.+-]+$/i.test(image.type) ? image.type : 'application/octet-stream',
      'X-Content-Type-Options': 'nosniff',
    };
    if ('bytes' in image) return new Response(new Uint8Array(image.bytes), { headers });
    await fs.promises.access(image.path, fs.constants.R_OK);
    const body = Readable.toWeb(fs.createReadStream(image.path)) as ReadableStream<Uint8Array>;
    return new Response(body, { headers });
  } catch (error) {
    const missing =
      ApiError.from(error).code === 'not_found' || (error as NodeJS.ErrnoException).code === 'ENOENT';
    return missing ? notFound() : new Response('Could not read the image', { status: 500 });
  }
}

/** Must run before app 'ready': the scheme is standard (real URLs) and secure (allowed by the CSP's img-src). */
export const mediaSchemePrivileges = {
  scheme: MEDIA_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true },
};

export function registerMediaProtocol(
  protocol: { handle(scheme: string, handler: (request: Request) => Promise<Response>): void },
  images: ImageSource,
): void {
  protocol.handle(MEDIA_SCHEME, (request) => mediaResponse(request.url, images));
}
