/**
 * Browser mode: the contract over loopback HTTP. `POST /api/<method>` with a JSON object body, events over
 * the WebSocket `/events`, thumbnails and originals at `/media/<thumb|full>/<photoId>`, and the built
 * renderer. Every request needs the per-run token; the server binds 127.0.0.1 only.
 */
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  ApiError,
  isMethodName,
  settle,
  type ApiErrorCode,
  type EventSource,
  type LikenessApi,
} from '../engine/api/contract';
import { MAX_QUERY_IMAGE_BYTES, type MethodName } from '../engine/api/contract';
import { isMediaKind, parseMediaId, type ImageSource } from '../engine/api/media';
import { Guard, newToken } from './http-security';
import { NOT_BUILT_PAGE, resolveStatic, sendFile } from './static-files';
import { UNAUTHORIZED_PAGE } from './unauthorized-page';

export interface ServerOptions {
  api: LikenessApi;
  imageSource: ImageSource;
  /** engine events to stream to WebSocket clients */
  events?: EventSource;
  /** the built renderer (dist/renderer); a placeholder page is served if it has no index.html */
  rendererDir: string;
  /** 0 (default) picks a free port */
  port?: number;
  /** loopback only: anything else is refused */
  host?: '127.0.0.1';
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const STATUS_OF: Record<ApiErrorCode, number> = {
  invalid_argument: 400,
  not_found: 404,
  unavailable: 503,
  internal: 500,
  unauthorized: 401,
  confirmation_required: 409,
};

/** Request body limits: small for ordinary calls, room for a base64 image (4/3 of the bytes) otherwise. */
export const BODY_LIMIT = 1024 * 1024;
export const IMAGE_BODY_LIMIT = Math.ceil((MAX_QUERY_IMAGE_BYTES * 4) / 3) + 64 * 1024;
const bodyLimit = (method: MethodName) => (method === 'searchByImage' ? IMAGE_BODY_LIMIT : BODY_LIMIT);

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1')
    throw new Error(`Browser mode listens on 127.0.0.1 only (asked for "${String(host)}")`);
  const token = newToken();
  let guard = new Guard(token, 0);

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, ApiError.from(error).toJSON());
      else res.destroy();
    });
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 120_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    guard.applySecurityHeaders(res);
    if (!guard.hostAllowed(req)) return sendText(res, 421, 'Misdirected request: unexpected Host header');
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${guard.port}`);
    // Route on the raw path: `new URL` would already have resolved `..` segments.
    const rawPath = (req.url ?? '/').split('?')[0];

    if (rawPath.startsWith('/api/')) return handleApi(req, res, rawPath.slice('/api/'.length));
    if (rawPath.startsWith('/media/')) return handleMedia(req, res, url, rawPath);
    if (rawPath === '/session') return handleSession(req, res, url);
    if (rawPath === '/events') return sendText(res, 426, 'Use a WebSocket to /events');
    return handleStatic(req, res, url, rawPath);
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    if (!guard.authorized(req, new URL('http://x/'))) {
      return sendError(res, 401, {
        code: 'unauthorized',
        message: 'Missing or wrong token (Authorization: Bearer …)',
      });
    }
    if (!isMethodName(name))
      return sendError(res, 404, { code: 'not_found', message: `Unknown method "${name.slice(0, 80)}"` });
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return sendError(res, 405, { code: 'invalid_argument', message: `Use POST /api/${name}` });
    }
    let args: unknown;
    try {
      args = await readJson(req, bodyLimit(name));
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      res.setHeader('Connection', 'close');
      res.on('finish', () => req.destroy());
      return sendError(res, error.status, { code: error.code, message: error.message });
    }
    const outcome = await settle(options.api, name, args);
    if (outcome.ok) return sendJson(res, 200, outcome.result);
    return sendError(res, STATUS_OF[outcome.error.code], outcome.error);
  }

  async function handleMedia(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    rawPath: string,
  ): Promise<void> {
    if (!guard.authorized(req, url, { cookie: true, query: true }))
      return sendText(res, 401, 'Missing or wrong token');
    const match = /^\/media\/([a-z]+)\/([^/]+)$/.exec(rawPath);
    const id = match && isMediaKind(match[1]) ? parseMediaId(match[2]) : null;
    if (!match || id === null) return sendText(res, 404, 'Not found');
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Use GET');
    try {
      const image =
        match[1] === 'thumb'
          ? await options.imageSource.thumbnail(id)
          : await options.imageSource.original(id);
      const headers = { 'Content-Type': imageType(image.type), 'Cache-Control': 'private, max-age=300' };
      if ('bytes' in image) {
        res.writeHead(200, { ...headers, 'Content-Length': image.bytes.byteLength });
        res.end(req.method === 'HEAD' ? undefined : image.bytes);
        return;
      }
      const stat = await fs.promises.stat(image.path);
      res.writeHead(200, { ...headers, 'Content-Length': stat.size });
      if (req.method === 'HEAD') return void res.end();
      fs.createReadStream(image.path)
        .on('error', () => res.destroy())
        .pipe(res);
    } catch (error) {
      const apiError = ApiError.from(error);
      const missing = apiError.code === 'not_found' || (error as NodeJS.ErrnoException).code === 'ENOENT';
      return sendText(res, missing ? 404 : 500, missing ? 'Not found' : 'Could not read the image');
    }
  }

  /**
   * GET: whether the media cookie is valid (never the API token: a new tab gets that from an open tab of the
   * same origin). DELETE with the Bearer token: revokes every media cookie; the caller gets a fresh one.
   */
  function handleSession(req: IncomingMessage, res: ServerResponse, url: URL): void {
    res.setHeader('Cache-Control', 'no-store');
    if (req.method === 'DELETE') {
      if (!guard.authorized(req, url))
        return sendError(res, 401, { code: 'unauthorized', message: 'Missing or wrong token' });
      res.setHeader('Set-Cookie', guard.revokeMedia());
      return sendJson(res, 200, { revoked: true });
    }
    if (!guard.authorized(req, url, { cookie: true }))
      return sendError(res, 401, { code: 'unauthorized', message: 'Not signed in' });
    sendJson(res, 200, { signedIn: true });
  }

  function handleStatic(req: IncomingMessage, res: ServerResponse, url: URL, rawPath: string): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Use GET');
    const viaQuery = guard.authorized(req, url, { query: true });
    if (!viaQuery && !guard.authorized(req, url, { cookie: true })) {
      res.writeHead(401, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      return void res.end(UNAUTHORIZED_PAGE);
    }
    // Opening the printed address signs the browser in: <img> and script requests then carry the cookie.
    if (viaQuery) res.setHeader('Set-Cookie', guard.sessionCookie());
    const found = resolveStatic(options.rendererDir, rawPath);
    if ('file' in found) return sendFile(res, found, req.method === 'HEAD');
    const isPage = rawPath === '/' || rawPath === '/index.html';
    if (isPage) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      return void res.end(NOT_BUILT_PAGE);
    }
    sendText(res, 404, 'Not found');
  }

  // --- events ---------------------------------------------------------------------------------------
  // loaded here, not at the top: the CLI bundle includes this module, and its other commands never serve
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const alive = new WeakMap<WebSocket, boolean>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${guard.port}`);
    const ok =
      url.pathname === '/events' &&
      guard.hostAllowed(req) &&
      guard.originAllowed(req) &&
      guard.authorized(req, url, { query: true, cookie: true });
    if (!ok) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      alive.set(ws, true);
      ws.on('pong', () => alive.set(ws, true));
      ws.on('message', () => undefined); // clients only listen
      ws.on('error', () => ws.terminate());
    });
  });
  const unsubscribe = options.events?.subscribe((event) => {
    const message = JSON.stringify(event);
    for (const client of wss.clients) if (client.readyState === client.OPEN) client.send(message);
  });
  // Drop clients that vanished without a close frame (a suspended laptop, a killed tab).
  const heartbeat = setInterval(() => {
    for (const client of wss.clients) {
      if (alive.get(client) === false) client.terminate();
      else {
        alive.set(client, false);
        client.ping();
      }
    }
  }, 30_000);
  heartbeat.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  guard = new Guard(token, port);

  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    token,
    close: async () => {
      clearInterval(heartbeat);
      unsubscribe?.();
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Reads a JSON body up to `limit` bytes; an empty body means "no arguments". */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type && !/^application\/json\b/i.test(type)) {
    throw new HttpError(
      415,
      'invalid_argument',
      'The request body must be JSON (Content-Type: application/json)',
    );
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  const tooLarge = () =>
    new HttpError(413, 'invalid_argument', `Request body is larger than ${Math.round(limit / 1024)} KiB`);
  if (declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(
      400,
      'invalid_argument',
      `Request body is not valid JSON: ${(error as Error).message}`,
    );
  }
}

function imageType(type: string): string {
  return /^image\/[a-z0-9.+-]+$/i.test(type) ? type : 'application/octet-stream';
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body ?? null);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  status: number,
  error: { code: ApiErrorCode; message: string },
): void {
  sendJson(res, status, { error });
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(text);
}
