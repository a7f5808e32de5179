/**
 * Browser mode's guards: the per-run API token (Bearer header; `?token=` only to sign a page in and for the
 * WebSocket), a separate media-only secret in a cookie, the Host/Origin checks that stop DNS rebinding and
 * cross-site WebSocket hijacking, and the security headers every response carries.
 *
 * Why two secrets: browsers send a 127.0.0.1 cookie to every port of 127.0.0.1, so any other local web
 * server the user visits receives it. The cookie therefore never holds the API token: it only lets the page
 * load its assets, images and event stream, and it can be revoked (rotated) at any time.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Cookies are not port-scoped, so the name carries the port: two servers on one host don't clash. */
export function cookieName(port: number): string {
  return `likeness_media_${port}`;
}

function sameToken(candidate: string | undefined, token: string): boolean {
  if (!candidate) return false;
  const a = Buffer.from(candidate);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

export function cookieToken(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface AuthSources {
  /** `?token=` in the URL (the printed address; the WebSocket, which cannot set headers) */
  query?: boolean;
  /** the HttpOnly media cookie set when the page was opened with the token (what <img> requests carry) */
  cookie?: boolean;
}

/** Where a request may come from: the API takes only the Bearer token; media, pages and events the cookie. */

export class Guard {
  readonly cookie: string;
  /** the media-only capability held in the cookie; never the API token, rotated by `revokeMedia` */
  private mediaSecret = newToken();
  private readonly hosts: Set<string>;
  private readonly origins: Set<string>;

  constructor(
    readonly token: string,
    readonly port: number,
  ) {
    this.cookie = cookieName(port);
    this.hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
    this.origins = new Set([...this.hosts].map((h) => `http://${h}`));
  }

  /** The Bearer header always counts; the query and cookie only where `sources` allows. */
  authorized(req: IncomingMessage, url: URL, sources: AuthSources = {}): boolean {
    if (sameToken(bearerToken(req), this.token)) return true;
    if (sources.query && sameToken(url.searchParams.get('token') ?? undefined, this.token)) return true;
    if (sources.cookie && sameToken(cookieToken(req, this.cookie), this.mediaSecret)) return true;
    return false;
  }

  /** Revokes every media cookie handed out so far; returns the new one for the caller. */
  revokeMedia(): string {
    this.mediaSecret = newToken();
    return this.sessionCookie();
  }

  /** A page on another name that resolves to 127.0.0.1 (DNS rebinding) sends a foreign Host header. */
  hostAllowed(req: IncomingMessage): boolean {
    return this.hosts.has((req.headers.host ?? '').toLowerCase());
  }

  /** Browsers always send Origin on WebSocket upgrades; only our own page may connect. */
  originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    return origin === undefined || this.origins.has(origin.toLowerCase());
  }

  sessionCookie(): string {
    return `${this.cookie}=${this.mediaSecret}; Path=/; HttpOnly; SameSite=Strict`;
  }

  contentSecurityPolicy(): string {
    return [
      "default-src 'none'",
      "script-src 'self'",
      // Svelte transitions and component styles may be injected at runtime.
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data: blob:",
      "font-src 'self'",
      `connect-src 'self' ws://127.0.0.1:${this.port} ws://localhost:${this.port}`,
      "worker-src 'self' blob:",
      "manifest-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; ');
  }

  applySecurityHeaders(res: ServerResponse): void {
    res.setHeader('Content-Security-Policy', this.contentSecurityPolicy());
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // no-referrer also keeps the token in the page URL from leaking anywhere.
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  }
}
