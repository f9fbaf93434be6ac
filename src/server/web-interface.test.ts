// The web interface's static files, served by cl-server at `/` over real HTTP: index.html for the
// client's routes, hashed assets with long caching, REST paths untouched, no way out of the folder.
import { request } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_NOT_BUILT_MESSAGE } from './http/web-routes.js';
import { startTestServer, type TestServer } from './test-server.js';

const INDEX = '<!doctype html><title>CodaLab</title><div id="root"></div>';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** GET with the path sent exactly as written (fetch would normalize `..` and encodings away). */
function rawGet(baseUrl: string, path: string): Promise<Answer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web interface served by cl-server', () => {
  let server: TestServer;
  let parent: string;

  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'cl-web-test-'));
    const webDir = join(parent, 'web');
    await mkdir(join(webDir, 'assets'), { recursive: true });
    await writeFile(join(webDir, 'index.html'), INDEX);
    await writeFile(join(webDir, 'assets', 'index-abc123.js'), 'console.log("app");');
    await writeFile(join(webDir, 'assets', 'index-abc123.css'), 'body{}');
    await writeFile(join(parent, 'secret.txt'), 'outside the web folder');
    server = await startTestServer({ webDir });
  });

  afterAll(async () => {
    await server?.stop();
    await rm(parent, { recursive: true, force: true });
  });

  it('answers index.html at / and at client routes, not cached', async () => {
    for (const path of ['/', '/worksheets/home-codalab', '/bundles/0x0123456789abcdef0123456789abcdef']) {
      const answer = await rawGet(server.server.url, path);
      expect(answer, path).toMatchObject({ status: 200, body: INDEX });
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(answer.headers['cache-control']).toBe('no-cache');
      // No script but the build's own, nothing sent elsewhere, never framed by another site.
      expect(answer.headers['content-security-policy']).toMatch(/script-src 'self';.*connect-src 'self';.*frame-ancestors 'none'/);
    }
  });

  it('serves hashed assets with their content type and a long cache', async () => {
    const js = await rawGet(server.server.url, '/assets/index-abc123.js');
    expect(js).toMatchObject({ status: 200, body: 'console.log("app");' });
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const css = await rawGet(server.server.url, '/assets/index-abc123.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await rawGet(server.server.url, '/assets/missing-000.js')).status).toBe(404);
  });

  it('leaves REST paths to the API: an unknown one is a JSON 404', async () => {
    const answer = await rawGet(server.server.url, '/rest/no-such-route');
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'not_found' } });
    expect((await rawGet(server.server.url, '/rest/user')).status).toBe(401);
  });

  it('never serves a file outside its folder, however the path is written', async () => {
    const tricks = ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/assets/%2E%2E%2F%2E%2E%2Fsecret.txt', '/..%5csecret.txt', '/%252e%252e/secret.txt', '/assets/..%00/x'];
    for (const path of tricks) {
      const answer = await rawGet(server.server.url, path);
      expect(answer.body, path).not.toContain('outside the web folder');
    }
  });

  it('says to build when the web folder is missing', async () => {
    const bare = await startTestServer({ webDir: join(parent, 'not-built') });
    try {
      const answer = await rawGet(bare.server.url, '/');
      expect(answer.status).toBe(503);
      expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(answer.body.trim()).toBe(WEB_NOT_BUILT_MESSAGE);
    } finally {
      await bare.stop();
    }
  });
});
