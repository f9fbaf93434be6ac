// The production build (tsconfig.build.json -> dist/) holds no test support, and its imports
// match package.json: every package it imports is a dependency, and every dependency is imported.
// tsc compiles whatever a production module imports, even an excluded file, so listing the files
// of the build is what proves that no production module imports a fake or a test server.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TEST_SUPPORT = [
  /\.test\.ts$/,
  /^src\/server\/test-server\.ts$/,
  /^src\/worker\/docker\/fake-runtime\.ts$/,
  /^src\/worker\/docker\/docker-test-support\.ts$/,
];

function productionFiles(): string[] {
  const tsc = path.join(ROOT, 'node_modules', '.bin', 'tsc');
  const listed = execFileSync(tsc, ['-p', path.join(ROOT, 'tsconfig.build.json'), '--listFilesOnly'], {
    encoding: 'utf8',
  });
  return listed
    .split('\n')
    .map((file) => path.relative(ROOT, file.trim()))
    .filter((file) => file.startsWith('src/'));
}

/** The package names a module imports (`import ... from 'x'`, `import('x')`), without node builtins. */
function importedPackages(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const pattern = /(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)'([^'./\n][^'\n]*)'/gm;
  const specifiers = [...text.matchAll(pattern)].map((m) => m[1] as string);
  return specifiers
    .filter((s) => !s.startsWith('node:') && !builtinModules.includes(s))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : (s.split('/')[0] as string)));
}

describe('the production build', () => {
  const files = productionFiles();
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const imported = new Map<string, string>();
  for (const file of files) for (const name of importedPackages(file)) imported.set(name, file);

  it('compiles the product', () => {
    expect(files).toContain('src/cli/main.ts');
    expect(files).toContain('src/worker/main.ts');
  });

  it('holds no test support (nothing in production imports it)', () => {
    expect(files.filter((file) => TEST_SUPPORT.some((pattern) => pattern.test(file)))).toEqual([]);
  });

  it('imports only packages listed as dependencies', () => {
    const undeclared = [...imported].filter(([name]) => !(name in pkg.dependencies)).map(([name, file]) => `${name} (${file})`);
    expect(undeclared).toEqual([]);
  });

  it('uses every dependency (test-only packages belong in devDependencies)', () => {
    expect(Object.keys(pkg.dependencies).filter((name) => !imported.has(name))).toEqual([]);
  });
});
