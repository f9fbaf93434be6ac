// What a run sees from inside its container, with a real cl-server, a real cl-worker on Docker and
// bin/cl: no credential of the worker (environment, mounts, files), a non-root user with
// no-new-privileges, no effective capabilities and a pids limit, read-only dependencies, no Docker socket; and,
// with network, no connection to the server's port on loopback, the default gateway or docker0.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, DEFAULT_IMAGE } from '../e2e/harness.js';

let cluster: Cluster;

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE]);
  cluster.startWorker({ id: 'sandbox', extraArgs: ['--slots', '2', '--gpuset', 'NONE'] });
  expect(await cluster.cl(['work', `${cluster.url}::`]), cluster.describeLogs()).toMatchObject({ code: 0 });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

/** Runs `command` to its end and returns its stdout; the run must end `ready`. */
async function runToEnd(args: string[]): Promise<{ uuid: string; stdout: string }> {
  const uuid = await cluster.clOk(['run', '--request-memory', '256m', ...args]);
  const waited = await cluster.cl(['wait', uuid], { timeoutMs: 150_000 });
  expect(waited.code, `${waited.stderr}\n${cluster.describeLogs()}`).toBe(0);
  return { uuid, stdout: await cluster.clOk(['cat', `${uuid}/stdout`]) };
}

/** The lines between `=== name` and the next marker. */
function section(stdout: string, name: string): string {
  const after = stdout.split(`=== ${name}\n`)[1] ?? '';
  return after.split('\n=== ')[0] ?? '';
}

describe('inside a run', () => {
  it('runs unprivileged, sees no worker credential, cannot write its dependencies and has no Docker socket', async () => {
    const files = join(cluster.root, 'sandbox-data');
    mkdirSync(files, { recursive: true });
    writeFileSync(join(files, 'a.txt'), 'dependency\n');
    const data = await cluster.clOk(['upload', files, '-n', 'sandbox-data']);
    // The password is assembled at run time, so that the command's own text (in /proc) never holds it whole.
    const [head, tail] = [cluster.rootPassword.slice(0, 5), cluster.rootPassword.slice(5)];
    const command = [
      'echo "=== uid"; id -u',
      'echo "=== status"; grep -E "^(NoNewPrivs|CapEff|CapPrm|CapAmb):" /proc/self/status',
      // cgroup v2, else v1.
      'echo "=== pids"; cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max',
      'echo "=== env"; env | sort',
      'echo "=== mounts"; cat /proc/self/mountinfo',
      'echo "=== socket"; for s in /var/run/docker.sock /run/docker.sock; do test -e $s && echo "present $s"; done; echo checked',
      'echo "=== dep-write"; (echo x > data/new.txt) 2>/dev/null && echo written || echo refused; (rm -f data/a.txt) 2>/dev/null; test -e data/a.txt && echo kept',
      `echo "=== secret"; P="${head}"; P="$P${tail}"; grep -rl --exclude=stdout --exclude=stderr -- "$P" "$HOME" /proc/self/environ /proc/1/environ 2>/dev/null; echo searched`,
    ].join('; ');
    const { uuid, stdout } = await runToEnd([`data:${data}`, command]);

    expect(Number(section(stdout, 'uid').trim())).not.toBe(0);
    const status = section(stdout, 'status');
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    for (const set of ['CapEff', 'CapPrm', 'CapAmb']) expect(status).toMatch(new RegExp(`^${set}:\\s+0+$`, 'm'));

    expect(section(stdout, 'pids').trim()).toBe('4096');

    const env = section(stdout, 'env');
    expect(env).not.toContain(cluster.rootPassword);
    const names = env.split('\n').filter(Boolean).map((line) => line.split('=')[0]);
    expect(names.filter((name) => /PASSWORD|TOKEN|CODALAB_|SECRET/i.test(name ?? ''))).toEqual([]);

    const mounts = section(stdout, 'mounts');
    expect(mounts).not.toContain(cluster.rootPassword);
    expect(mounts).not.toContain('docker.sock');
    // Under the run's home only the run's own dir and its dependency are mounted, the dependency read-only.
    const mountPoints = mounts.split('\n').filter(Boolean).map((line) => line.split(' '));
    const own = mountPoints.filter((fields) => fields[4]?.startsWith(`/${uuid}`));
    expect(own.map((fields) => fields[4]).sort()).toEqual([`/${uuid}`, `/${uuid}/data`]);
    expect(own.find((fields) => fields[4] === `/${uuid}/data`)?.[5]?.split(',')).toContain('ro');

    expect(section(stdout, 'socket').trim()).toBe('checked');
    expect(section(stdout, 'dep-write').trim().split('\n')).toEqual(['refused', 'kept']);
    expect(section(stdout, 'secret').trim()).toBe('searched');
  }, 240_000);

  it("with network, cannot connect to the server's port on loopback, the default gateway or docker0", async () => {
    const port = Number(new URL(cluster.url).port);
    const probe = String.raw`
import socket, struct
def gateway():
    for line in open('/proc/net/route').read().splitlines()[1:]:
        fields = line.split()
        if fields[1] == '00000000':
            return socket.inet_ntoa(struct.pack('<L', int(fields[2], 16)))
targets = ['127.0.0.1', gateway(), '172.17.0.1']
for host in targets:
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect((host, PORT))
        print(host, 'CONNECTED')
    except OSError as error:
        print(host, 'failed:', type(error).__name__, error)
    finally:
        s.close()
`.replace('PORT', String(port));
    const { stdout } = await runToEnd(['--request-network', `python3 -c ${shellQuote(probe)}`]);
    const lines = stdout.trim().split('\n');
    expect(lines, stdout).toHaveLength(3);
    expect(lines[1]?.split(' ')[0], 'a default gateway was found').toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    for (const line of lines) expect(line).toMatch(/ failed: /);
  }, 240_000);
});

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
