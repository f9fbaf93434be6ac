// Unpacking uploaded zip files with the system's `unzip` (Debian package `unzip`): zip needs
// random access to its central directory, so the upload is first streamed to a temporary file.
// The result is refused as a whole when any entry or symbolic link would point outside it.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { lstat, readdir, readlink, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError } from '../../protocol/index.js';

export async function unpackZip(source: Readable, destDir: string, fileName: string): Promise<string> {
  const temp = `${destDir}.zip`;
  try {
    await pipeline(source, createWriteStream(temp));
    const { code, stderr } = await runUnzip(temp, destDir);
    // 1 = warnings only (e.g. a stripped "../" component, which unzip refuses to follow).
    if (code !== 0 && code !== 1) {
      throw new ApiError('bad_request', `Cannot unpack '${fileName}': ${stderr.trim().split('\n')[0] ?? `unzip exited with ${code}`}`);
    }
    if (/\.\.\/|absolute path/i.test(stderr)) {
      throw new ApiError('bad_request', `Archive '${fileName}' rejected, nothing stored: an entry points outside the bundle.`);
    }
    const escaping = await findEscapingLink(destDir, destDir);
    if (escaping) throw new ApiError('bad_request', `Archive '${fileName}' rejected, nothing stored: ${escaping}.`);
    return destDir;
  } finally {
    await rm(temp, { force: true });
  }
}

function runUnzip(file: string, destDir: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('unzip', ['-qq', '-o', file, '-d', destDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) =>
      reject(new ApiError('unavailable', `Cannot unpack zip files: the 'unzip' program is not available (${error.message}).`)),
    );
    child.on('close', (code) => resolvePromise({ code: code ?? 1, stderr }));
  });
}

async function findEscapingLink(root: string, dir: string): Promise<string | null> {
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const stat = await lstat(path);
    if (stat.isSymbolicLink()) {
      const target = await readlink(path);
      const rel = relative(root, resolve(dir, target));
      if (isAbsolute(target) || rel.startsWith('..')) return `link '${relative(root, path)}' -> '${target}' points outside the bundle`;
    } else if (stat.isDirectory()) {
      const found = await findEscapingLink(root, path);
      if (found) return found;
    }
  }
  return null;
}
