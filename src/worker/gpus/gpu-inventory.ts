// The GPUs this worker offers, re-detected now and then so that GPUs which vanish (a driver
// failure) stop being offered, and the server can flag the worker. Only detection state lives
// here; which run holds which GPU is the resource pool's business.
import { selectGpus, type GpuDetection, type GpuInfo } from './gpu-discovery.js';

export class GpuInventory {
  private current: GpuInfo[] = [];
  private lastProblem: string | null = null;
  private lastRefresh = -Infinity;

  constructor(
    private readonly detect: () => Promise<GpuDetection>,
    /** `--gpuset`: null = every detected GPU. */
    private readonly gpuset: readonly string[] | null,
    private readonly refreshMs: number,
  ) {}

  /** First detection; a `--gpuset` naming a GPU that is not there is an error (UserInputError). */
  async init(now: number): Promise<void> {
    const found = await this.detect();
    this.current = selectGpus(found.gpus, this.gpuset);
    this.lastProblem = found.problem;
    this.lastRefresh = now;
  }

  /** Detects again when `refreshMs` has passed; GPUs no longer listed are dropped, not an error. */
  async refresh(now: number): Promise<void> {
    if (now - this.lastRefresh < this.refreshMs) return;
    this.lastRefresh = now;
    const found = await this.detect();
    const wanted = this.gpuset;
    this.current = wanted === null ? found.gpus : found.gpus.filter((g) => wanted.includes(g.index) || wanted.includes(g.uuid));
    this.lastProblem = found.problem;
  }

  get gpus(): readonly GpuInfo[] {
    return this.current;
  }

  get uuids(): string[] {
    return this.current.map((g) => g.uuid);
  }

  get problem(): string | null {
    return this.lastProblem;
  }
}
