// The worker's id: the one given with --id, or one generated on first start and kept in the
// work dir, so a worker restarted on the same work dir is the same worker to the server.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../common/atomic-write.js';
import path from 'node:path';
import { WORKER_ID_PATTERN } from '../protocol/index.js';

export const WORKER_ID_FILE = 'worker-id';

export async function resolveWorkerId(workDir: string, hostname: string, explicit: string | null): Promise<string> {
  if (explicit !== null) return explicit;
  const file = path.join(workDir, WORKER_ID_FILE);
  const stored = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (WORKER_ID_PATTERN.test(stored)) return stored;
  const host = hostname.replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 60) || 'worker';
  const id = `${host}-${randomBytes(4).toString('hex')}`;
  await writeFileAtomic(file, `${id}\n`);
  return id;
}
