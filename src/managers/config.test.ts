// cl-worker-manager's command line: backends, defaults, and one-line refusals of bad flags.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../common/usage-error.js';
import { parseManagerArgs, type ManagerConfig, type ManagerHostFacts } from './config.js';

const host: ManagerHostFacts = { cwd: '/home/m', nodeBinary: '/usr/bin/node', codalabRoot: '/opt/codalab', homeDir: '/home/m', readText: () => 'secret-token\n' };
const env = { CODALAB_USERNAME: 'manager', CODALAB_PASSWORD: 'pw' };

function config(argv: string[]): ManagerConfig {
  const parsed = parseManagerArgs(argv, env, host);
  if (parsed.kind !== 'config') throw new Error('expected a config');
  return parsed.config;
}

function refusal(argv: string[]): string {
  try {
    parseManagerArgs(argv, env, host);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('parseManagerArgs', () => {
  it('gives the docker backend its defaults', () => {
    const c = config(['docker']);
    expect(c.backend).toEqual({
      kind: 'docker',
      image: 'codalab/default-cpu:latest',
      dockerSocket: '/var/run/docker.sock',
      workDirRoot: '/home/m/codalab-worker-manager-scratch',
      nodeBinary: '/usr/bin/node',
      codalabRoot: '/opt/codalab',
    });
    expect(c.policy).toMatchObject({ minWorkers: 0, maxWorkers: 10, queue: null, users: null, baseShape: { cpus: 1, gpus: 0, memoryBytes: 2 * 1024 ** 3 } });
    expect(c).toMatchObject({ serverUrl: 'http://127.0.0.1:2900', name: 'codalab-worker', sleepSeconds: 10, credentials: { username: 'manager', password: 'pw' } });
  });

  it('reads the scaling flags', () => {
    const c = config(['docker', '--queue', 'gpu', '--user', 'a,b', '--user', 'c', '--min-workers', '1', '--max-workers', '3', '--max-gpus', '2', '--exit-after-num-runs', '1']);
    expect(c.policy).toMatchObject({ minWorkers: 1, maxWorkers: 3, queue: 'gpu', users: ['a', 'b', 'c'], maxShape: { cpus: null, gpus: 2, memoryBytes: null } });
    expect(c.exitAfterNumRuns).toBe(1);
  });

  it('takes --tag as --queue', () => {
    expect(config(['docker', '--tag', 'cpu']).policy.queue).toBe('cpu');
  });

  it('gives the kubernetes backend its flags, the token read from its file', () => {
    const c = config(['kubernetes', '--image', 'me/worker:1', '--api-server', 'https://k8s:6443', '--token-file', 't', '--node-selector', 'gpu=a100']);
    expect(c.backend).toMatchObject({ kind: 'kubernetes', image: 'me/worker:1', namespace: 'default', apiServer: 'https://k8s:6443', token: 'secret-token', nodeSelector: { gpu: 'a100' } });
  });

  it('gives the slurm-batch backend its defaults: no partition or time limit, files below home and cwd', () => {
    expect(config(['slurm-batch', '--name', 'gpu-mgr']).backend).toEqual({
      kind: 'slurm-batch',
      partition: null,
      timeLimitMinutes: null,
      jobNamePrefix: '',
      credentialsDir: '/home/m/.codalab/worker-manager-gpu-mgr',
      workDirRoot: '/home/m/codalab-worker-manager-scratch',
      nodeBinary: '/usr/bin/node',
      codalabRoot: '/opt/codalab',
    });
  });

  it('reads the slurm-batch flags', () => {
    const c = config(['slurm-batch', '--partition', 'gpu', '--time-limit', '1-00:00:00', '--job-name-prefix', 'cl.', '--credentials-dir', 'secrets', '--work-dir', '/scratch/w']);
    expect(c.backend).toMatchObject({ partition: 'gpu', timeLimitMinutes: 24 * 60, jobNamePrefix: 'cl.', credentialsDir: '/home/m/secrets', workDirRoot: '/scratch/w' });
  });

  it.each([
    ['90', 90],
    ['90:30', 91],
    ['2:00:00', 120],
    ['1-2', 26 * 60],
    ['1-2:30', 26 * 60 + 30],
    ['0-0:0:1', 1],
  ])('reads --time-limit %s as %i minutes, as Slurm does', (text, minutes) => {
    expect(config(['slurm-batch', '--time-limit', text]).backend).toMatchObject({ timeLimitMinutes: minutes });
  });

  it('lists the backends and flags in --help', () => {
    const slurm = parseManagerArgs(['slurm-batch', '--help'], env, host);
    expect(slurm.kind === 'help' && slurm.text).toMatch(/--partition[\s\S]*--time-limit[\s\S]*--job-name-prefix[\s\S]*--credentials-dir/);
    const top = parseManagerArgs(['--help'], env, host);
    expect(top.kind === 'help' && top.text).toMatch(/docker[\s\S]*kubernetes[\s\S]*slurm-batch[\s\S]*Each backend's flags: cl-worker-manager BACKEND --help/);
    const docker = parseManagerArgs(['docker', '--help'], env, host);
    expect(docker.kind === 'help' && docker.text).toContain('--max-workers');
  });

  it.each([
    [[], 'Name a backend: cl-worker-manager BACKEND [flags], BACKEND one of docker, kubernetes, slurm-batch (see cl-worker-manager --help).'],
    [['slurm'], "Unknown backend 'slurm': use one of docker, kubernetes, slurm-batch (see cl-worker-manager --help)."],
    [['slurm-batch', '--time-limit', '1:2:3:4'], "Invalid --time-limit '1:2:3:4': expected minutes or D-HH:MM:SS, e.g. 90 or 1-00:00:00, more than 0."],
    [['slurm-batch', '--time-limit', '0'], "Invalid --time-limit '0': expected minutes or D-HH:MM:SS, e.g. 90 or 1-00:00:00, more than 0."],
    [['slurm-batch', '--time-limit', '1h'], "Invalid --time-limit '1h': expected minutes or D-HH:MM:SS, e.g. 90 or 1-00:00:00, more than 0."],
    [['slurm-batch', '--job-name-prefix', 'cl worker'], "Invalid --job-name-prefix 'cl worker': use at most 40 letters, digits, '.', '_' and '-'."],
    [['docker', '--max-workers', 'x'], "Invalid --max-workers 'x': expected a whole number of at least 1."],
    [['docker', '--min-workers', '3', '--max-workers', '2'], '--min-workers 3 is more than --max-workers 2.'],
    [['docker', '--queue', 'a b'], "Invalid --queue 'a b': use 1 to 100 letters, digits, underscores (_) and hyphens (-)."],
    [['docker', '--name', 'Big_Name'], "Invalid --name 'Big_Name': use 1 to 40 lowercase letters, digits and hyphens, not starting or ending with a hyphen."],
    [['docker', '--bogus'], "unknown option '--bogus' (see cl-worker-manager --help)."],
    [['kubernetes'], "required option '--image <image>' not specified (see cl-worker-manager --help)."],
    [['kubernetes', '--image', 'i', '--api-server', 'https://k'], '--api-server and --token-file go together: give both, or neither to use the kubeconfig.'],
  ])('refuses %j in one line', (argv, message) => {
    expect(refusal(argv)).toBe(message);
  });

  it('asks for credentials after the flags are good', () => {
    expect(() => parseManagerArgs(['docker'], {}, host)).toThrow(/No credentials: pass --password-file/);
  });
});
