// Builds dist/ once before any test, because end-to-end tests run bin/cl, bin/cl-server and
// bin/cl-worker as real processes, and those launchers load the compiled code.
// CL_SKIP_BUILD=1 skips it when running only unit tests during development.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  if (process.env.CL_SKIP_BUILD === '1') return;
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
}
