// Test set-up for suites that use the real Docker engine: start dockerd when it is not running
// (as the CI recipe does, root only) and build a tiny image with bash by `docker import`.
// Used only by *.test.ts files; the worker itself never calls it.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TEST_IMAGE = 'cl-test/worker-bash:1';
export const DOCKER_SOCKET = '/var/run/docker.sock';

function dockerAnswers(): boolean {
  try {
    execFileSync('/usr/bin/docker', ['info'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** Makes sure dockerd runs; throws (never skips) when it cannot be started. */
export async function ensureDocker(): Promise<void> {
  if (dockerAnswers()) return;
  if (process.getuid?.() !== 0 || !existsSync('/usr/sbin/dockerd')) {
    throw new Error('Docker is not running and cannot be started here: run scripts/ensure-docker (or start dockerd) first.');
  }
  const child = spawn('/usr/sbin/dockerd', [], { detached: true, stdio: 'ignore' });
  child.unref();
  for (let i = 0; i < 120; i += 1) {
    if (dockerAnswers()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('dockerd did not come up within 30 s (see its log).');
}

/** Busybox applets plus the host's bash and its libraries: enough for `/bin/bash -c`. */
export function ensureTestImage(): string {
  try {
    execFileSync('/usr/bin/docker', ['image', 'inspect', TEST_IMAGE], { stdio: 'ignore' });
    return TEST_IMAGE;
  } catch {
    // Not built yet: build it below.
  }
  const root = mkdtempSync(path.join(os.tmpdir(), 'cl-test-image-'));
  try {
    for (const d of ['bin', 'tmp', 'etc', 'proc', 'sys', 'dev', 'root', 'lib/x86_64-linux-gnu', 'lib64']) {
      mkdirSync(path.join(root, d), { recursive: true });
    }
    chmodSync(path.join(root, 'tmp'), 0o1777);
    copyFileSync('/bin/busybox', path.join(root, 'bin/busybox'));
    chmodSync(path.join(root, 'bin/busybox'), 0o755);
    const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const applet of applets) if (applet !== 'busybox') symlinkSync('busybox', path.join(root, 'bin', applet));
    copyFileSync('/bin/bash', path.join(root, 'bin/bash'));
    chmodSync(path.join(root, 'bin/bash'), 0o755);
    for (const lib of ['libtinfo.so.6', 'libc.so.6']) {
      copyFileSync(`/lib/x86_64-linux-gnu/${lib}`, path.join(root, 'lib/x86_64-linux-gnu', lib));
    }
    copyFileSync('/lib64/ld-linux-x86-64.so.2', path.join(root, 'lib64/ld-linux-x86-64.so.2'));
    writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n');
    writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    const tarball = execFileSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 64 * 1024 * 1024 });
    execFileSync('/usr/bin/docker', ['import', '-c', 'ENV PATH=/bin', '-c', 'CMD ["/bin/sh"]', '-', TEST_IMAGE], {
      input: tarball,
      stdio: ['pipe', 'ignore', 'inherit'],
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return TEST_IMAGE;
}
