// Resolving a sub-path inside a bundle's contents without ever leaving them: no `..`, and no
// passing through a symbolic link (a link is reported as a link, never followed).
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../../protocol/index.js';

export interface ResolvedPath {
  path: string;
  kind: 'file' | 'directory' | 'link';
  size: number;
  mode: number;
}

export async function resolveInside(root: string, subpath: string, context: string): Promise<ResolvedPath> {
  const parts = subpath.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ApiError('bad_request', `Path '${subpath}' may not contain '..'.`);
  let current = root;
  for (let i = 0; i <= parts.length; i += 1) {
    const stat = await lstat(current).catch(() => null);
    if (!stat) throw new ApiError('not_found', `Target '${subpath}' doesn't exist in bundle ${context}.`);
    const isLast = i === parts.length;
    if (stat.isSymbolicLink()) {
      if (!isLast) throw new ApiError('not_found', `Target '${subpath}' passes through a symbolic link in bundle ${context}.`);
      return { path: current, kind: 'link', size: stat.size, mode: stat.mode & 0o777 };
    }
    if (isLast) {
      return { path: current, kind: stat.isDirectory() ? 'directory' : 'file', size: stat.size, mode: stat.mode & 0o777 };
    }
    if (!stat.isDirectory()) throw new ApiError('not_found', `Target '${subpath}' doesn't exist in bundle ${context}.`);
    current = join(current, parts[i] as string);
  }
  throw new ApiError('internal', 'unreachable');
}
