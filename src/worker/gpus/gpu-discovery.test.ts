import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planContainer } from '../runs/container-plan.js';
import { ResourcePool } from '../runs/resource-pool.js';
import { toCreateOptions } from '../docker/docker-runtime.js';
import { detectGpus, parseNvidiaSmi, selectGpus } from './gpu-discovery.js';
import { GpuInventory } from './gpu-inventory.js';

const UUID0 = 'GPU-8c7d6a34-1b2c-4d5e-9f00-aaaaaaaaaaaa';
const UUID1 = 'GPU-11112222-3333-4444-5555-bbbbbbbbbbbb';
const SMI_OUTPUT = `0, ${UUID0}, NVIDIA H100 80GB HBM3, 81559 MiB\n1, ${UUID1}, NVIDIA H100 80GB HBM3, 81559 MiB\n`;

const dir = mkdtempSync(path.join(tmpdir(), 'fake-nvidia-smi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A PATH on which `nvidia-smi` is a shell script running `script`. */
function fakeSmi(name: string, script: string): NodeJS.ProcessEnv {
  const binDir = path.join(dir, name);
  mkdirSync(binDir, { recursive: true });
  writeFileSync(path.join(binDir, 'nvidia-smi'), `#!/bin/sh\n${script}`);
  chmodSync(path.join(binDir, 'nvidia-smi'), 0o755);
  return { PATH: `${binDir}:/usr/bin:/bin` };
}

describe('GPU discovery with nvidia-smi', () => {
  it('parses the csv query output, by UUID', () => {
    expect(parseNvidiaSmi(SMI_OUTPUT)).toEqual([
      { index: '0', uuid: UUID0, name: 'NVIDIA H100 80GB HBM3', memory: '81559 MiB' },
      { index: '1', uuid: UUID1, name: 'NVIDIA H100 80GB HBM3', memory: '81559 MiB' },
    ]);
    expect(parseNvidiaSmi('No devices were found\n')).toEqual([]);
  });

  it('runs the nvidia-smi found on PATH with the documented query', async () => {
    const env = fakeSmi('ok', `[ "$1" = "--query-gpu=index,uuid,name,memory.total" ] && [ "$2" = "--format=csv,noheader" ] || exit 3\nprintf '${SMI_OUTPUT.replace(/\n/g, '\\n')}'\n`);
    const found = await detectGpus({ env });
    expect(found.problem).toBeNull();
    expect(found.gpus.map((g) => g.uuid)).toEqual([UUID0, UUID1]);
  });

  it('finds no GPUs, and no problem, when nvidia-smi is absent', async () => {
    expect(await detectGpus({ env: { PATH: path.join(dir, 'empty') } })).toEqual({ gpus: [], problem: null });
  });

  it('reports a failing nvidia-smi as a problem with no GPUs', async () => {
    const env = fakeSmi('broken', `echo 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.' >&2\nexit 9\n`);
    const found = await detectGpus({ env });
    expect(found.gpus).toEqual([]);
    expect(found.problem).toMatch(/^nvidia-smi failed: NVIDIA-SMI has failed/);
  });

  it('selects --gpuset by index or UUID, and refuses an unknown GPU', () => {
    const gpus = parseNvidiaSmi(SMI_OUTPUT);
    expect(selectGpus(gpus, null).map((g) => g.uuid)).toEqual([UUID0, UUID1]);
    expect(selectGpus(gpus, ['1']).map((g) => g.uuid)).toEqual([UUID1]);
    expect(selectGpus(gpus, [UUID0]).map((g) => g.index)).toEqual(['0']);
    expect(() => selectGpus(gpus, ['7'])).toThrow(/--gpuset names GPU 7, which nvidia-smi does not list/);
    expect(() => selectGpus([], ['0'])).toThrow(/none were found/);
  });

  it('drops GPUs that vanish on a later detection', async () => {
    let output = parseNvidiaSmi(SMI_OUTPUT);
    const inventory = new GpuInventory(async () => ({ gpus: output, problem: null }), null, 60_000);
    await inventory.init(0);
    expect(inventory.uuids).toEqual([UUID0, UUID1]);
    output = [];
    await inventory.refresh(30_000);
    expect(inventory.uuids).toHaveLength(2);
    await inventory.refresh(60_000);
    expect(inventory.uuids).toEqual([]);
  });
});

describe('GPU assignment', () => {
  it('gives each run its own GPUs and cores, and takes them back', () => {
    const pool = new ResourcePool(() => [0, 1, 2, 3], () => [UUID0, UUID1]);
    expect(pool.allocate('a', 2, 1)).toEqual({ cpuset: [0, 1], gpus: [UUID0] });
    expect(pool.allocate('b', 1, 1)).toEqual({ cpuset: [2], gpus: [UUID1] });
    expect(pool.allocate('c', 1, 1)).toBeNull();
    expect(pool.shortage(1, 1)).toBe('needs 1 GPUs; 0 free here');
    pool.release('a');
    expect(pool.allocate('c', 2, 1)).toEqual({ cpuset: [0, 1], gpus: [UUID0] });
  });

  it('builds a Docker device request and the visible-devices variables from the UUIDs', () => {
    const run = {
      uuid: `0x${'c'.repeat(32)}`, command: 'nvidia-smi', owner_id: '1', dependencies: [], exclude_patterns: [],
      resources: { docker_image: 'cuda:12', cpus: 1, gpus: 1, memory: 1024 ** 3, disk: 0, time: 0, network: false },
    };
    const plan = planContainer(run, [], {
      workerId: 'w', runDir: '/r', user: '65534:65534', cpuset: [3], gpus: [UUID1], imageRef: 'cuda:12', logMaxBytes: 1024,
    });
    expect(plan.spec.env).toMatchObject({ NVIDIA_VISIBLE_DEVICES: UUID1, CUDA_VISIBLE_DEVICES: UUID1 });
    const options = toCreateOptions(plan.spec, 'none');
    expect(options.HostConfig?.DeviceRequests).toEqual([{ Driver: 'nvidia', DeviceIDs: [UUID1], Capabilities: [['gpu']] }]);
    expect(options.HostConfig?.CpusetCpus).toBe('3');
  });

  it('asks for no device and hides GPUs from CPU runs', () => {
    const run = {
      uuid: `0x${'d'.repeat(32)}`, command: 'true', owner_id: '1', dependencies: [], exclude_patterns: [],
      resources: { docker_image: 'img:1', cpus: 1, gpus: 0, memory: 1024 ** 3, disk: 0, time: 0, network: true },
    };
    const plan = planContainer(run, [], { workerId: 'w', runDir: '/r', user: '1:1', cpuset: [], imageRef: 'img:1', logMaxBytes: 1024 });
    expect(plan.spec.env.NVIDIA_VISIBLE_DEVICES).toBe('void');
    expect(plan.spec.env.CUDA_VISIBLE_DEVICES).toBeUndefined();
    expect(toCreateOptions(plan.spec, 'none').HostConfig?.DeviceRequests).toBeUndefined();
  });
});
