// Entry point of `cl`: reads the configuration once and hands the invocation to run-cli.ts. Only
// `cl --version` is answered here, before the commands (and the schemas they load) are loaded.
// Nothing else in src/cli reads process.env or calls process.exit.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRODUCT_VERSION } from '../protocol/version.js';
import { parseCliConfig, type CliConfig } from './config.js';
import type { CliIo } from './io.js';

const VERSION_FLAGS = ['-v', '--version'];

export async function main(argv: string[]): Promise<void> {
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
  // A closed pipe (`cl cat x | head`) is the reader's choice, not an error worth a message.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  if (argv.length === 1 && VERSION_FLAGS.includes(argv[0] as string)) {
    io.stdout.write(`${PRODUCT_VERSION}\n`);
    return;
  }
  let config: CliConfig;
  try {
    const here = dirname(fileURLToPath(import.meta.url));
    config = parseCliConfig({
      env: process.env,
      cwd: process.cwd(),
      serverBin: resolve(here, '..', '..', 'bin', 'cl-server'),
      nodeBin: process.execPath,
    });
  } catch (error) {
    const { describeError } = await import('./run-cli.js');
    io.stderr.write(`cl: ${describeError(error, false)}\n`);
    process.exitCode = 1;
    return;
  }
  const { runCli } = await import('./run-cli.js');
  process.exitCode = await runCli(argv, config, io);
}
