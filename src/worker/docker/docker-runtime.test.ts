// Conformance of DockerRuntime against the real dockerd: lifecycle, mounts, user, limits, labels.
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_LABEL, RUN_NETWORK, WORKER_LABEL, type ContainerSpec } from './container-runtime.js';
import { DockerRuntime } from './docker-runtime.js';
import { EXIT_REPORT_SCRIPT } from './exit-report.js';
import { DOCKER_SOCKET, ensureDocker, ensureTestImage } from './docker-test-support.js';

const runtime = new DockerRuntime(DOCKER_SOCKET);
const workerId = `test-${process.pid}-${Date.now()}`;
let image = '';
let dir = '';

function spec(overrides: Partial<ContainerSpec> & { script: string }): ContainerSpec {
  const { script, ...rest } = overrides;
  return {
    name: `cl-test-${Math.random().toString(16).slice(2)}`,
    image,
    command: ['/bin/bash', '-c', script],
    workingDir: '/out',
    env: { HOME: '/out' },
    user: '65534:65534',
    mounts: [{ source: path.join(dir, 'out'), target: '/out', readOnly: false }],
    memoryBytes: 64 * 1024 * 1024,
    cpus: 1,
    cpuset: [],
    network: false,
    labels: { [WORKER_LABEL]: workerId, [RUN_LABEL]: '0x' + '0'.repeat(32) },
    logMaxBytes: 1024 * 1024,
    ...rest,
  };
}

async function runToEnd(s: ContainerSpec, on = runtime): Promise<{ exitCode: number; oomKilled: boolean; out: (f: string) => string }> {
  const id = await on.createContainer(s);
  try {
    await on.startContainer(id);
    const exit = await on.waitContainer(id);
    return { ...exit, out: (f) => readFileSync(path.join(dir, 'out', f), 'utf8') };
  } finally {
    await on.removeContainer(id);
  }
}

beforeAll(async () => {
  await ensureDocker();
  image = ensureTestImage();
  dir = mkdtempSync(path.join(os.tmpdir(), 'cl-docker-test-'));
});

afterAll(async () => {
  for (const c of await runtime.listContainers({ [WORKER_LABEL]: workerId })) await runtime.removeContainer(c.id);
  rmSync(dir, { recursive: true, force: true });
});

describe('DockerRuntime (real dockerd)', () => {
  it('pings and inspects images, reporting a digest', async () => {
    await runtime.ping();
    const info = await runtime.inspectImage(image);
    expect(info?.id).toMatch(/^sha256:/);
    expect(info?.digest).toBe(`${image}@${info?.id}`);
    expect(await runtime.inspectImage('cl-test/does-not-exist:1')).toBeNull();
  });

  it('fails a pull of an unknown image with the engine reason', async () => {
    await expect(runtime.pullImage('127.0.0.1:1/nope:1')).rejects.toMatchObject({ kind: 'failed' });
  });

  it('runs a container as a non-root user that can write the bundle dir, and removes it', async () => {
    mkdirSync(path.join(dir, 'out'), { recursive: true });
    chownSync(path.join(dir, 'out'), 65534, 65534);
    const r = await runToEnd(spec({ script: 'id -u > uid; echo hello > greeting; exit 3' }));
    expect(r.exitCode).toBe(3);
    expect(r.oomKilled).toBe(false);
    expect(r.out('uid').trim()).toBe('65534');
    expect(r.out('greeting')).toBe('hello\n');
    expect(await runtime.listContainers({ [WORKER_LABEL]: workerId })).toEqual([]);
  });

  it('mounts dependencies read-only: writes are refused', async () => {
    mkdirSync(path.join(dir, 'dep'), { recursive: true });
    writeFileSync(path.join(dir, 'dep', 'data.txt'), 'input\n');
    mkdirSync(path.join(dir, 'out', 'dep'), { recursive: true });
    const r = await runToEnd(
      spec({
        script: 'cat dep/data.txt > copy; if echo x 2>err >dep/new; then echo writable; else echo refused; fi > verdict',
        user: '0:0',
        mounts: [
          { source: path.join(dir, 'out'), target: '/out', readOnly: false },
          { source: path.join(dir, 'dep'), target: '/out/dep', readOnly: true },
        ],
      }),
    );
    expect(r.exitCode).toBe(0);
    expect(r.out('copy')).toBe('input\n');
    expect(r.out('verdict').trim()).toBe('refused');
    expect(r.out('err')).toMatch(/Read-only file system/);
  });

  it('reports OOMKilled when the memory limit is exceeded, even if the shell exits 0', async () => {
    const r = await runToEnd(
      spec({ script: '(head -c 200m /dev/zero | tail > /dev/null); echo done', memoryBytes: 32 * 1024 * 1024, user: '0:0' }),
    );
    expect(r.oomKilled).toBe(true);
  });

  describe('with an exit report printed by the command', () => {
    /** Runs `script` as a run's command runs; `reported`: whether the runtime heard the report. */
    async function runReported(script: string, s: Partial<ContainerSpec> = {}): Promise<{ exitCode: number; oomKilled: boolean; reported: boolean }> {
      const id = await runtime.createContainer(spec({ script: `( ${script}\n) >/dev/null 2>&1; ${EXIT_REPORT_SCRIPT}`, ...s }));
      let reported = false;
      try {
        await runtime.startContainer(id);
        const exit = await runtime.waitContainer(id, undefined, () => (reported = true));
        return { exitCode: exit.exitCode, oomKilled: exit.oomKilled, reported };
      } finally {
        await runtime.removeContainer(id);
      }
    }

    it('reports the exit status the report gives, as the engine would', async () => {
      expect(await runReported('exit 7')).toEqual({ exitCode: 7, oomKilled: false, reported: true });
      expect(await runReported('true')).toEqual({ exitCode: 0, oomKilled: false, reported: true });
    });

    it('leaves an OOM kill to the engine: still OOMKilled when the shell exits 0', async () => {
      // The kernel picks whom to kill; the subshell's score makes it pick `tail`, so the shell lives on to exit 0.
      const r = await runReported('(echo 1000 > /proc/self/oom_score_adj; head -c 200m /dev/zero | tail > /dev/null); echo done', {
        memoryBytes: 32 * 1024 * 1024,
        user: '0:0',
      });
      expect(r).toMatchObject({ exitCode: 0, oomKilled: true });
    });

    it('leaves a death by signal to the engine', async () => {
      expect(await runReported('kill -9 $BASHPID')).toEqual({ exitCode: 137, oomKilled: false, reported: true });
    });

    it('waits for the engine when the early exit is refused', async () => {
      const id = await runtime.createContainer(spec({ script: `( exit 5\n); ${EXIT_REPORT_SCRIPT}` }));
      try {
        await runtime.startContainer(id);
        expect(await runtime.waitContainer(id, undefined, () => false)).toMatchObject({ exitCode: 5, oomKilled: false });
        // The engine's answer: the container has stopped by now.
        const info = await new Docker({ socketPath: DOCKER_SOCKET }).getContainer(id).inspect();
        expect(info.State.Running).toBe(false);
      } finally {
        await runtime.removeContainer(id);
      }
    });
  });

  it('has no network with network off, and keeps to the limits it was given', async () => {
    const off = await runToEnd(spec({ script: 'ls /sys/class/net > nets', user: '0:0' }));
    expect(off.out('nets').split('\n').filter(Boolean)).toEqual(['lo']);
    const id = await runtime.createContainer(spec({ script: 'true' }));
    try {
      const info = await new Docker({ socketPath: DOCKER_SOCKET }).getContainer(id).inspect();
      expect(info.HostConfig.NetworkMode).toBe('none');
      expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
      expect(info.HostConfig.MemorySwap).toBe(64 * 1024 * 1024);
      expect(info.HostConfig.NanoCpus).toBe(1e9);
      expect(info.Config.User).toBe('65534:65534');
    } finally {
      await runtime.removeContainer(id);
    }
  });

  // The default run network is one on which runs cannot reach each other: the engine's default
  // bridge where inter-container traffic is off there, else codalab-runs. Each case stands in a
  // bridge of the test's own for the default one, since the engine's own cannot be changed here.
  describe.each([
    { engine: 'a default bridge with inter-container traffic off', icc: 'false', joins: 'the default bridge' },
    { engine: 'a default bridge with inter-container traffic on', icc: 'true', joins: RUN_NETWORK },
  ])('with $engine, runs with a network join $joins', ({ icc }) => {
    const docker = new Docker({ socketPath: DOCKER_SOCKET });
    const bridgeName = `cl-test-bridge-${icc}-${process.pid}`;
    const onEngine = new DockerRuntime(DOCKER_SOCKET, RUN_NETWORK, bridgeName);
    const expected = icc === 'false' ? bridgeName : RUN_NETWORK;

    beforeAll(async () => {
      await docker.createNetwork({ Name: bridgeName, Driver: 'bridge', Options: { 'com.docker.network.bridge.enable_icc': icc } });
    });
    afterAll(async () => {
      await docker.getNetwork(bridgeName).remove();
    });

    it('joins that network', async () => {
      // Only create (not start) it: some hosts have no bridge to attach to.
      const id = await onEngine.createContainer(spec({ script: 'true', network: true }));
      try {
        expect((await docker.getContainer(id).inspect()).HostConfig.NetworkMode).toBe(expected);
      } finally {
        await onEngine.removeContainer(id);
      }
    });

    it('keeps runs from reaching each other, while this host reaches them', async () => {
      const server = await onEngine.createContainer(spec({ script: 'while true; do echo served | nc -l -p 7000; done', user: '0:0', network: true }));
      try {
        await onEngine.startContainer(server);
        const address = await onEngine.containerAddress(server);
        if (address === null) throw new Error('the server container has no address');
        const fromHost = await new Promise<string>((resolve, reject) => {
          const attempt = (left: number): void => {
            const socket = net.connect({ host: address, port: 7000 });
            let text = '';
            socket.on('data', (c: Buffer) => (text += c.toString()));
            socket.on('end', () => resolve(text));
            socket.on('error', (error) => (left > 0 ? setTimeout(() => attempt(left - 1), 100) : reject(error)));
          };
          attempt(50);
        });
        expect(fromHost).toBe('served\n');
        const peer = await runToEnd(spec({ script: `nc -w 3 ${address} 7000 </dev/null > got; echo $? > code`, user: '0:0', network: true }), onEngine);
        expect(peer.out('got')).toBe('');
        expect(peer.out('code').trim()).not.toBe('0');
      } finally {
        await onEngine.removeContainer(server);
      }
    });
  });

  it("puts runs on the network it was given instead, such as Docker's default bridge", async () => {
    const onBridge = new DockerRuntime(DOCKER_SOCKET, 'bridge');
    const id = await onBridge.createContainer(spec({ script: 'true', network: true }));
    try {
      const info = await new Docker({ socketPath: DOCKER_SOCKET }).getContainer(id).inspect();
      expect(info.HostConfig.NetworkMode).toBe('bridge');
    } finally {
      await onBridge.removeContainer(id);
    }
  });

  it('gives the address of a running container with a network, and none without one', async () => {
    const ids = [
      await runtime.createContainer(spec({ script: 'sleep 30', user: '0:0', network: true })),
      await runtime.createContainer(spec({ script: 'sleep 30', user: '0:0' })),
    ];
    try {
      for (const id of ids) await runtime.startContainer(id);
      const [bridged, isolated] = await Promise.all(ids.map((id) => runtime.containerAddress(id)));
      expect(bridged).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(isolated).toBeNull();
    } finally {
      await Promise.all(ids.map((id) => runtime.removeContainer(id)));
    }
  });

  it('labels containers, stops them with a grace period, and lists them by label', async () => {
    const id = await runtime.createContainer(spec({ script: 'sleep 60', user: '0:0' }));
    await runtime.startContainer(id);
    const listed = await runtime.listContainers({ [WORKER_LABEL]: workerId });
    expect(listed.map((c) => c.id)).toContain(id);
    expect(listed.find((c) => c.id === id)?.labels[RUN_LABEL]).toBe('0x' + '0'.repeat(32));
    await runtime.stopContainer(id, 1);
    // A signal's exit status shows the stop worked (`sleep 60` alone would exit 0).
    const exit = await runtime.waitContainer(id);
    expect([137, 143]).toContain(exit.exitCode);
    await runtime.stopContainer(id, 1); // stopping a stopped container is fine
    await runtime.removeContainer(id);
    await runtime.removeContainer(id); // removing twice is fine
    expect(await runtime.listContainers({ [WORKER_LABEL]: workerId })).toEqual([]);
  });

  it('reports an unreachable engine as such', async () => {
    const broken = new DockerRuntime(path.join(dir, 'no.sock'));
    await expect(broken.ping()).rejects.toMatchObject({ kind: 'unreachable' });
    await expect(broken.ping()).rejects.toThrow(/Cannot reach Docker at .*no\.sock/);
  });
});
