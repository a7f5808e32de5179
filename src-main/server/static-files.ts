/**
 * Serves the built renderer from one directory. Paths are decoded, normalised and confined to that
 * directory; dotfiles are never served; unknown extensionless routes fall back to index.html (one page app).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ServerResponse } from 'node:http';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export type StaticResult = { file: string; type: string; immutable: boolean } | { missing: true };

/** Maps a raw URL path onto a file inside `root`, or reports that there is none. Never escapes `root`. */
export function resolveStatic(root: string, rawPath: string): StaticResult {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { missing: true };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { missing: true };
  const relative = path.posix.normalize(decoded).replace(/^\/+/, '');
  if (relative.split('/').some((part) => part.startsWith('.'))) return { missing: true };
  const base = path.resolve(root);
  const wanted = path.resolve(base, relative || 'index.html');
  if (wanted !== base && !wanted.startsWith(base + path.sep)) return { missing: true };

  const found = statFile(wanted) ? wanted : !path.extname(wanted) ? path.join(base, 'index.html') : null;
  if (!found || !statFile(found)) return { missing: true };
  return {
    file: found,
    type: TYPES[path.extname(found).toLowerCase()] ?? 'application/octet-stream',
    // Vite puts content-hashed files under assets/; everything else (index.html) must revalidate.
    immutable: relative.startsWith('assets/') && found === wanted,
  };
}

function statFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export function sendFile(
  res: ServerResponse,
  result: { file: string; type: string; immutable: boolean },
  head: boolean,
): void {
  res.writeHead(200, {
    'Content-Type': result.type,
    'Cache-Control': result.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (head) {
    res.end();
    return;
  }
  fs.createReadStream(result.file)
    .on('error', () => res.destroy())
    .pipe(res);
}

/** Shown when the renderer has not been built: the API still works, the page says what to do. */
export const NOT_BUILT_PAGE = `<!doctype html><meta charset="utf-8"><title>Likeness</title>
<h1>Likeness is running</h1><p>The user interface has not been built yet. Run <code>npm run build:renderer</code>
and reload this page.</p>`;
