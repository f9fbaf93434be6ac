import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseCliConfig } from './config.js';
import { runCli } from './run-cli.js';

// Commands that need no server: help, argument errors, logout.
async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = mkdtempSync(join(tmpdir(), 'cl-main-'));
  const config = parseCliConfig({ env: { CODALAB_HOME: home }, cwd: home, serverBin: '/nonexistent', nodeBin: process.execPath });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await runCli(argv, config, { stdout, stderr, stdin: new PassThrough() });
  return { code, stdout: out, stderr: err };
}

describe('runCli', () => {
  it('prints the command list for bare cl and cl help', async () => {
    for (const argv of [[], ['help']]) {
      const result = await run(argv);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Commands:/);
      for (const name of ['work', 'status', 'logout', 'upload', 'run', 'info', 'cat', 'ls', 'wait', 'kill', 'workers']) {
        expect(result.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
      }
    }
  });

  it('prints one command with examples', async () => {
    const result = await run(['help', 'upload']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Usage: cl upload/);
    expect(result.stdout).toMatch(/Examples:\n\s+cl upload/);
    expect((await run(['cat', '--help'])).stdout).toMatch(/Usage: cl cat/);
  });

  it('reports usage errors in one line with status 1', async () => {
    const cases: [string[], RegExp][] = [
      [['help', 'frobnicate'], /^cl: Unknown command 'frobnicate'/],
      [['frobnicate'], /^cl: unknown command 'frobnicate'/],
      [['run', '--request-cpus', 'two', 'date'], /^cl: Invalid value for --request-cpus 'two'/],
      [['run', '--request-disk', '1x', 'date'], /^cl: Invalid size '1x'/],
      [['cat', 'x', '--head', 'ten'], /^cl: .*Invalid line count 'ten'/],
      [['info'], /^cl: missing required argument 'specs'/],
      [['upload', '-c', 'x', 'file'], /^cl: Give either paths or -c TEXT/],
      [['work', 'ftp://x::'], /^cl: Invalid server address/],
    ];
    for (const [argv, pattern] of cases) {
      const result = await run(argv);
      expect(result.code, argv.join(' ')).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(pattern);
    }
  });

  it('logs out without a server', async () => {
    const result = await run(['logout']);
    expect(result).toEqual({ code: 0, stdout: '', stderr: 'Not logged in to local.\n' });
  });
});
