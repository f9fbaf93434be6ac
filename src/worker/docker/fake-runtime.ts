// An in-memory ContainerRuntime for unit tests: images are a map, a container "runs" a behaviour
// chosen by the test, and the engine can be switched off to exercise "Docker is down" paths.
// It does no I/O and starts nothing.
import {
  RuntimeError,
  type ContainerExit,
  type ContainerRuntime,
  type ContainerSpec,
  type ImageInfo,
  type ImageRemoval,
  type LabelledContainer,
  type PullEvent,
} from './container-runtime.js';

/** What a started container does: exit at once with a result, or run until stopped. */
export type FakeBehaviour = (spec: ContainerSpec) => ContainerExit | 'until-stopped';

interface FakeContainer {
  id: string;
  spec: ContainerSpec;
  state: 'created' | 'running' | 'exited';
  createdAt: number;
  exit: ContainerExit | null;
  waiters: Array<(exit: ContainerExit) => void>;
}

export class FakeRuntime implements ContainerRuntime {
  readonly address = 'fake://docker';
  reachable = true;
  readonly images = new Map<string, ImageInfo>();
  /** Images a pull would find. */
  readonly registry = new Map<string, ImageInfo>();
  readonly containers = new Map<string, FakeContainer>();
  readonly calls: string[] = [];
  /** Progress events every pull reports, in order. */
  pullEvents: PullEvent[] = [];
  behaviour: FakeBehaviour = () => ({ exitCode: 0, oomKilled: false, ranSeconds: 0 });
  private nextId = 1;

  async ping(): Promise<void> {
    this.check('ping');
  }

  async inspectImage(ref: string): Promise<ImageInfo | null> {
    this.check(`inspectImage ${ref}`);
    return this.images.get(ref) ?? this.imageById(ref);
  }

  async removeImage(id: string): Promise<ImageRemoval> {
    this.check(`removeImage ${id}`);
    const names = [...this.images].filter(([, image]) => image.id === id).map(([name]) => name);
    if (names.length === 0) return { outcome: 'gone' };
    const user = [...this.containers.values()].find((c) => c.spec.image === id || names.includes(c.spec.image));
    if (user) return { outcome: 'in_use', reason: `image is being used by container ${user.id}` };
    for (const name of names) this.images.delete(name);
    return { outcome: 'removed' };
  }

  async pullImage(ref: string, _signal?: AbortSignal, onProgress?: (event: PullEvent) => void): Promise<void> {
    this.check(`pullImage ${ref}`);
    const found = this.registry.get(ref);
    if (!found) throw new RuntimeError('failed', `pull access denied for ${ref}`);
    for (const event of this.pullEvents) onProgress?.(event);
    this.images.set(ref, found);
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    this.check(`createContainer ${spec.name}`);
    if (!this.images.has(spec.image) && !this.imageById(spec.image)) throw new RuntimeError('not_found', `No such image: ${spec.image}`);
    const id = `fake${this.nextId++}`;
    this.containers.set(id, { id, spec, state: 'created', createdAt: Date.now(), exit: null, waiters: [] });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    this.check(`startContainer ${id}`);
    const c = this.get(id);
    c.state = 'running';
    const result = this.behaviour(c.spec);
    if (result !== 'until-stopped') this.exit(c, result);
  }

  async waitContainer(id: string): Promise<ContainerExit> {
    this.check(`waitContainer ${id}`);
    const c = this.get(id);
    if (c.exit) return c.exit;
    return new Promise((resolve) => c.waiters.push(resolve));
  }

  async stopContainer(id: string): Promise<void> {
    this.check(`stopContainer ${id}`);
    const c = this.containers.get(id);
    if (c && c.state === 'running') this.exit(c, { exitCode: 143, oomKilled: false, ranSeconds: null });
  }

  async removeContainer(id: string): Promise<void> {
    this.check(`removeContainer ${id}`);
    const c = this.containers.get(id);
    if (c && c.state === 'running') this.exit(c, { exitCode: 137, oomKilled: false, ranSeconds: null });
    this.containers.delete(id);
  }

  async listContainers(labels: Record<string, string>): Promise<LabelledContainer[]> {
    this.check('listContainers');
    return [...this.containers.values()]
      .filter((c) => Object.entries(labels).every(([k, v]) => c.spec.labels[k] === v))
      .map((c) => ({
        id: c.id,
        labels: c.spec.labels,
        running: c.state === 'running',
        neverStarted: c.state === 'created',
        createdAt: c.createdAt,
      }));
  }

  async readMemoryPeak(): Promise<number | null> {
    return null;
  }

  /** Bytes a test says the container wrote outside its bind mounts. */
  writableLayerBytes = 0;

  async readWritableLayerSize(): Promise<number | null> {
    return this.writableLayerBytes;
  }

  /** Where a running container with a network listens: loopback, so tests can serve its ports themselves. */
  async containerAddress(id: string): Promise<string | null> {
    const c = this.get(id);
    return c.state === 'running' && c.spec.network ? '127.0.0.1' : null;
  }

  /** Ends a running container as if its command had exited. */
  finish(id: string, exit: ContainerExit): void {
    this.exit(this.get(id), exit);
  }

  private exit(c: FakeContainer, exit: ContainerExit): void {
    c.state = 'exited';
    c.exit = exit;
    for (const resolve of c.waiters.splice(0)) resolve(exit);
  }

  private imageById(id: string): ImageInfo | null {
    return [...this.images.values()].find((image) => image.id === id) ?? null;
  }

  private get(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c) throw new RuntimeError('not_found', `No such container: ${id}`);
    return c;
  }

  private check(call: string): void {
    this.calls.push(call);
    if (!this.reachable) throw new RuntimeError('unreachable', `Cannot reach Docker at ${this.address}: connect ECONNREFUSED`);
  }
}
