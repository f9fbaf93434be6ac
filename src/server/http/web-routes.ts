// The web interface: the static build in dist/web served at `/`, on the same origin as the REST
// API so it signs in with the same token route. Hashed files under /assets/ are cached for good;
// any other path that is not a file answers index.html, whose router picks the page.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REST } from '../../protocol/index.js';

/** dist/web next to the compiled server (dist/server/http/web-routes.js). */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web', import.meta.url));

/**
 * The page shows what strangers wrote (bundle names, worksheet text, file previews): should any of
 * it ever slip past React's escaping, it still cannot run script, load from elsewhere, send the
 * token away or be framed by another site.
 */
export const WEB_CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export const WEB_NOT_BUILT_MESSAGE = 'The web interface is not built: run `npm run build`, then restart cl-server.';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export function registerWebRoutes(app: FastifyInstance, webDir: string): void {
  const root = resolve(webDir);
  app.get('/', (_request, reply) => sendIndex(reply, root));
  app.get('/*', async (request, reply) => {
    const raw = (request.params as { '*': string })['*'];
    if (raw === REST.slice(1) || raw.startsWith(`${REST.slice(1)}/`)) {
      return reply.status(404).send({ error: { code: 'not_found', message: `No route GET ${request.url}.` } });
    }
    const relative = safeRelativePath(raw);
    if (relative === null) return reply.status(400).type('text/plain; charset=utf-8').send('Bad path.');
    const file = relative === '' ? null : await fileInside(root, relative);
    if (file) {
      // Vite names assets by their content hash: a changed file gets a new name.
      const cache = relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
      return sendFile(reply, file.path, file.size, cache);
    }
    if (relative.startsWith('assets/')) return reply.status(404).type('text/plain; charset=utf-8').send('No such asset.');
    return sendIndex(reply, root);
  });
}

/**
 * The URL path decoded segment by segment, or null when it tries to leave the folder: `..`, an
 * encoded separator or NUL, or a backslash (a separator on some systems).
 */
export function safeRelativePath(raw: string): string | null {
  const path = raw.split('?')[0] ?? '';
  const parts: string[] = [];
  for (const encoded of path.split('/')) {
    let part: string;
    try {
      part = decodeURIComponent(encoded);
    } catch {
      return null;
    }
    if (part === '' || part === '.') continue;
    if (part === '..' || /[/\\\0]/.test(part)) return null;
    parts.push(part);
  }
  return parts.join('/');
}

async function fileInside(root: string, relative: string): Promise<{ path: string; size: number } | null> {
  const path = resolve(root, relative);
  if (!path.startsWith(root + sep)) return null;
  const info = await stat(path).catch(() => null);
  return info?.isFile() ? { path, size: info.size } : null;
}

async function sendIndex(reply: FastifyReply, root: string): Promise<FastifyReply> {
  const index = await fileInside(root, 'index.html');
  if (!index) return reply.status(503).type('text/plain; charset=utf-8').send(`${WEB_NOT_BUILT_MESSAGE}\n`);
  return sendFile(reply.header('content-security-policy', WEB_CONTENT_SECURITY_POLICY), index.path, index.size, 'no-cache');
}

function sendFile(reply: FastifyReply, path: string, size: number, cache: string): FastifyReply {
  return reply
    .type(CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream')
    .header('cache-control', cache)
    .header('x-content-type-options', 'nosniff')
    .header('content-length', size)
    .send(createReadStream(path));
}
