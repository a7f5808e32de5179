/**
 * Serves the built renderer as `likeness-app://app/…` rather than file://, so that every page response can
 * carry a strict Content-Security-Policy header and the renderer has a real origin to check IPC senders and
 * navigations against. Paths are confined to the renderer directory (shared with browser mode).
 */
import fs from 'node:fs';
import { MEDIA_SCHEME } from '../engine/api/contract';
import { resolveStatic } from '../server/static-files';

export const APP_SCHEME = 'likeness-app';
export const APP_ORIGIN = `${APP_SCHEME}://app`;
export const APP_INDEX = `${APP_ORIGIN}/index.html`;

export const appSchemePrivileges = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true },
};

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  `img-src 'self' ${MEDIA_SCHEME}: data: blob:`,
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

export function isAppUrl(url: string): boolean {
  return url === APP_ORIGIN || url.startsWith(`${APP_ORIGIN}/`);
}

export async function appResponse(requestUrl: string, rendererDir: string): Promise<Response> {
  const url = new URL(requestUrl);
  const headers = { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff' };
  if (url.host !== 'app') return new Response('Not found', { status: 404, headers });
  const found = resolveStatic(rendererDir, url.pathname);
  if (!('file' in found)) {
    const page = url.pathname === '/' || url.pathname === '/index.html';
    return page
      ? new Response(
          '<!doctype html><meta charset="utf-8"><h1>Likeness</h1><p>The user interface was not built (npm run build:renderer).</p>',
          {
            headers: { ...headers, 'Content-Type': 'text/html; charset=utf-8' },
          },
        )
      : new Response('Not found', { status: 404, headers });
  }
  return new Response(new Uint8Array(await fs.promises.readFile(found.file)), {
    headers: { ...headers, 'Content-Type': found.type },
  });
}

export function registerAppProtocol(
  protocol: { handle(scheme: string, handler: (request: Request) => Promise<Response>): void },
  rendererDir: string,
): void {
  protocol.handle(APP_SCHEME, (request) => appResponse(request.url, rendererDir));
}
