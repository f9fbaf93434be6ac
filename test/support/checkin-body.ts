// A worker check-in for tests that act as a worker over HTTP; the defaults are a small honest machine.
import { PROTOCOL_VERSION, type WorkerCheckin } from '../../src/protocol/index.js';

export function checkinBody(overrides: Partial<WorkerCheckin> = {}): WorkerCheckin {
  return {
    protocol_version: PROTOCOL_VERSION,
    hostname: 'test-host',
    tag: null,
    tag_exclusive: false,
    cpus: 2,
    gpus: 0,
    memory_bytes: 8 * 1024 ** 3,
    free_disk_bytes: 100 * 1024 ** 3,
    slots: 2,
    runs_left: null,
    cached_dependencies: [],
    runs: [],
    docker_ok: true,
    docker_message: null,
    ...overrides,
  };
}
