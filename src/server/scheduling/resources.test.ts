import { describe, expect, it } from 'vitest';
import { NO_REQUEST_LIMITS, requestLimitViolation, resolveResources, type RequestLimits } from './resources.js';

const GB = 1024 ** 3;
const defaults = { defaultCpuImage: 'cpu:1', defaultGpuImage: 'gpu:1' };

describe('resolveResources', () => {
  it('fills in the defaults: 1 CPU, no GPU, 2g, network on, the CPU image', () => {
    expect(resolveResources({}, defaults)).toEqual({ docker_image: 'cpu:1', cpus: 1, gpus: 0, memory: 2 * GB, disk: 0, time: 0, network: true });
  });

  it('uses the GPU image for GPU runs and keeps digests', () => {
    expect(resolveResources({ request_gpus: 1 }, defaults).docker_image).toBe('gpu:1');
    expect(resolveResources({ request_docker_image: 'img@sha256:abc' }, defaults).docker_image).toBe('img@sha256:abc');
    expect(resolveResources({ request_docker_image: 'busybox' }, defaults).docker_image).toBe('busybox:latest');
  });

  it('follows the server default for network, unless the run says', () => {
    expect(resolveResources({}, { ...defaults, defaultNetwork: false }).network).toBe(false);
    expect(resolveResources({ request_network: true }, { ...defaults, defaultNetwork: false }).network).toBe(true);
  });

  it('caps the default memory at the server maximum', () => {
    const limits: RequestLimits = { ...NO_REQUEST_LIMITS, maxRequestMemory: GB };
    expect(resolveResources({}, { ...defaults, limits }).memory).toBe(GB);
    expect(resolveResources({ request_memory: 512 * 1024 ** 2 }, { ...defaults, limits }).memory).toBe(512 * 1024 ** 2);
  });

  it('gives runs without a disk or time limit the server maximum', () => {
    const limits: RequestLimits = { ...NO_REQUEST_LIMITS, maxRequestDisk: 10 * GB, maxRequestTime: 3600 };
    const r = resolveResources({}, { ...defaults, limits });
    expect([r.disk, r.time]).toEqual([10 * GB, 3600]);
  });
});

describe('requestLimitViolation', () => {
  const limits: RequestLimits = {
    maxRequestMemory: 32 * GB,
    minRequestMemory: 4 * 1024 ** 2,
    maxRequestDisk: 100 * GB,
    maxRequestTime: 86400,
    maxRequestCpus: 8,
    maxRequestGpus: 2,
  };
  const check = (metadata: Record<string, number>): string | null => requestLimitViolation(resolveResources(metadata, defaults), limits);

  it('accepts requests within the bounds', () => {
    expect(check({ request_memory: 32 * GB, request_cpus: 8, request_gpus: 2, request_time: 86400 })).toBeNull();
  });

  it.each([
    [{ request_memory: 64 * GB }, "--request-memory 64g is above this server's maximum of 32g; ask for at most 32g."],
    [{ request_memory: 1024 }, "--request-memory 1k is below this server's minimum of 4m; ask for at least 4m."],
    [{ request_disk: 200 * GB }, "--request-disk 200g is above this server's maximum of 100g; ask for at most 100g."],
    [{ request_time: 2 * 86400 }, "--request-time 2d is above this server's maximum of 1d; ask for at most 1d."],
    [{ request_cpus: 9 }, "--request-cpus 9 is above this server's maximum of 8; ask for at most 8."],
    [{ request_gpus: 4 }, "--request-gpus 4 is above this server's maximum of 2; ask for at most 2."],
  ])('refuses %j with the limit', (metadata, message) => {
    expect(check(metadata)).toBe(message);
  });
});
