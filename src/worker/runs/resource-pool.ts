// Which CPU cores and GPUs each run of this worker holds. A run is given the first free cores and
// GPUs it asked for, pinned for its whole life, and gives them back when it ends. Pure
// bookkeeping: no I/O; the agent asks before it accepts a run and releases when the run ends.

export interface Allocation {
  cpuset: number[];
  /** GPU UUIDs. */
  gpus: string[];
}

export class ResourcePool {
  private readonly cpusInUse = new Map<number, string>();
  private readonly gpusInUse = new Map<string, string>();

  constructor(
    private readonly cpus: () => readonly number[],
    private readonly gpus: () => readonly string[],
  ) {}

  /** The cores and GPUs for `runUuid`, or null when not enough are free right now. */
  allocate(runUuid: string, cpuCount: number, gpuCount: number): Allocation | null {
    const freeCpus = this.cpus().filter((c) => !this.cpusInUse.has(c));
    const freeGpus = this.gpus().filter((g) => !this.gpusInUse.has(g));
    if (freeCpus.length < cpuCount || freeGpus.length < gpuCount) return null;
    const allocation = { cpuset: freeCpus.slice(0, cpuCount), gpus: freeGpus.slice(0, gpuCount) };
    for (const c of allocation.cpuset) this.cpusInUse.set(c, runUuid);
    for (const g of allocation.gpus) this.gpusInUse.set(g, runUuid);
    return allocation;
  }

  /** Marks exactly these cores and GPUs as held by `runUuid` (a run taken up again after a restart). */
  claim(runUuid: string, allocation: Allocation): void {
    for (const c of allocation.cpuset) this.cpusInUse.set(c, runUuid);
    for (const g of allocation.gpus) this.gpusInUse.set(g, runUuid);
  }

  release(runUuid: string): void {
    for (const [c, owner] of this.cpusInUse) if (owner === runUuid) this.cpusInUse.delete(c);
    for (const [g, owner] of this.gpusInUse) if (owner === runUuid) this.gpusInUse.delete(g);
  }

  /** Why `allocate` would fail, with numbers; null when it would succeed. */
  shortage(cpuCount: number, gpuCount: number): string | null {
    const freeCpus = this.cpus().filter((c) => !this.cpusInUse.has(c)).length;
    const freeGpus = this.gpus().filter((g) => !this.gpusInUse.has(g)).length;
    if (freeCpus < cpuCount) return `needs ${cpuCount} CPUs; ${freeCpus} free here`;
    if (freeGpus < gpuCount) return `needs ${gpuCount} GPUs; ${freeGpus} free here`;
    return null;
  }
}
