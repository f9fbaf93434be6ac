// Bundles the client (dist/cli/main.js and everything it imports, zod and commander included) into
// one CommonJS file, dist/cli/cl.cjs, that bin/cl runs with a V8 code cache. Resolving and reading
// some hundred ES modules at every start costs more than the work most commands do; one file,
// compiled once, costs little. Modules reached through import() stay unevaluated until needed.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { build } from 'rolldown';

const OUT = 'dist/cli/cl.cjs';

rmSync(`${OUT}.cache`, { force: true }); // compiled from the bundle this replaces
await build({
  input: 'dist/cli/main.js',
  platform: 'node',
  logLevel: 'warn',
  // Native or server-side packages never belong in the client; left to require() should one be reached.
  external: ['better-sqlite3', 'dockerode', 'fastify', 'pino'],
  output: { file: OUT, format: 'cjs', codeSplitting: false },
});
writeFileSync(OUT, asciiOnly(lazyBuiltins(readFileSync(OUT, 'utf8'))));

// Warm the code cache with what every command compiles (the commands, their options, the
// schemas), so the first real command starts as fast as the later ones.
execFileSync(process.execPath, ['bin/cl', 'help'], { stdio: 'ignore', env: { ...process.env, CODALAB_HOME: 'dist/.cl-build-home' } });
rmSync('dist/.cl-build-home', { recursive: true, force: true });

/**
 * The bundle requires every Node built-in any module uses at its top, before the first line runs:
 * crypto, zlib, child_process, readline, http and the rest, ~15 ms of every start although most
 * commands need few of them (`cl --version` none). Each such require becomes a stand-in that
 * requires the module at the first use of one of its members. The bundler's own form of these
 * lines is matched exactly, and the build fails if it changes, rather than ship an eager bundle.
 */
function lazyBuiltins(code) {
  const REQUIRE = /^let (\w+) = require\("((?:node:)?[a-z_/]+)"\);\n(?:\1 = __toESM\(\1, 1\);\n)?/gm;
  const HELPER = `var __lazyBuiltin = (id, esm) => {
\tlet loaded;
\tconst load = () => loaded ??= esm ? __toESM(require(id), 1) : require(id);
\treturn new Proxy({}, {
\t\tget: (_, key) => load()[key],
\t\thas: (_, key) => key in load(),
\t\townKeys: () => Reflect.ownKeys(load()),
\t\tgetOwnPropertyDescriptor: (_, key) => {
\t\t\tconst found = Reflect.getOwnPropertyDescriptor(load(), key);
\t\t\treturn found && { ...found, configurable: true };
\t\t}
\t});
};
`;
  let count = 0;
  const lazy = code.replace(REQUIRE, (line, name, id) => {
    if (!isBuiltin(id)) return line;
    count += 1;
    return `let ${name} = __lazyBuiltin(${JSON.stringify(id)}, ${line.includes('__toESM') ? 'true' : 'false'});\n`;
  });
  const runtimeEnd = lazy.indexOf('\nlet ');
  if (count < 5 || runtimeEnd < 0 || !lazy.includes('var __toESM = ')) {
    throw new Error(`bundle-cli: expected the bundler's top-level require() lines of Node built-ins (found ${count}); update lazyBuiltins()`);
  }
  return `${lazy.slice(0, runtimeEnd + 1)}${HELPER}${lazy.slice(runtimeEnd + 1)}`;
}

/**
 * The bundle with every non-ASCII character written as a \uXXXX escape. A handful of them (dashes in
 * comments, progress-bar glyphs in strings) made V8 decode and scan the whole source as two-byte
 * text, ~2 ms of every start; escaped, the source is one-byte text that means the same (the escape
 * is valid in comments, strings, regular expressions and identifiers alike).
 */
function asciiOnly(code) {
  return code.replace(/[\u0080-\uffff]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
