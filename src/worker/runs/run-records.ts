// What a worker keeps on disk about each run it holds, so that a restarted worker (a clean stop or
// kill -9) takes its runs up again instead of losing them: the run's spec and assignment, the
// state of its state machine, its container and its mounts. One JSON file a run, replaced
// atomically (write, fsync, rename) whenever the run changes stage, and removed only once the
// server has the run's end and its files are gone.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { RunSpec } from '../../protocol/index.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { errorMessage } from '../../common/error-message.js';
import type { Logger } from '../../common/log.js';
import type { DependencyMount } from '../reads/run-paths.js';
import type { MountPoint } from './container-plan.js';
import type { Allocation } from './resource-pool.js';
import type { RunState } from './run-state.js';

const RECORD_VERSION = 1;

export interface RunRecord {
  spec: RunSpec;
  assignmentId: string;
  allocation: Allocation | null;
  state: RunState;
  containerId: string | null;
  /** The image digest of a container being started, so a re-attached run still records it. */
  imageDigest: string | null;
  mountPoints: MountPoint[];
  dependencyMounts: DependencyMount[];
  killRequestedAt: number | null;
}

/** Enough of a record's shape to trust it; the file is ours, so this guards against damage, not attack. */
const StoredRecord = z.object({
  version: z.literal(RECORD_VERSION),
  spec: RunSpec,
  assignmentId: z.string().min(1),
  allocation: z.object({ cpuset: z.array(z.number().int()), gpus: z.array(z.string()) }).nullable(),
  state: z.looseObject({
    uuid: z.string(),
    assignmentId: z.string(),
    stage: z.enum(['preparing', 'running', 'finalizing', 'finished']),
    acceptedAt: z.number(),
    stageSince: z.number(),
  }),
  containerId: z.string().nullable(),
  imageDigest: z.string().nullable(),
  mountPoints: z.array(z.object({ path: z.string(), isDirectory: z.boolean(), linkTarget: z.string().optional() })),
  dependencyMounts: z.array(z.object({ path: z.string(), hostPath: z.string() })),
  killRequestedAt: z.number().nullable(),
});

/** Saves and removes records; what the supervisor sees of the store. */
export interface RunRecordSink {
  save(record: RunRecord): void;
  remove(uuid: string): Promise<void>;
}

export class RunRecords implements RunRecordSink {
  /** The newest record of each run still waiting to be written, and each run's write in flight. */
  private readonly pending = new Map<string, RunRecord>();
  private readonly writing = new Map<string, Promise<void>>();

  constructor(
    readonly dir: string,
    private readonly log: Logger,
  ) {}

  /** Every readable record; an unreadable one is logged and removed (the server settles its run). */
  async loadAll(): Promise<RunRecord[]> {
    await mkdir(this.dir, { recursive: true });
    const records: RunRecord[] = [];
    for (const name of await readdir(this.dir)) {
      const file = path.join(this.dir, name);
      if (!name.endsWith('.json')) {
        // A temp file of a write that a crash interrupted.
        await rm(file, { force: true });
        continue;
      }
      try {
        const parsed: Partial<z.infer<typeof StoredRecord>> = StoredRecord.parse(JSON.parse(await readFile(file, 'utf8')));
        delete parsed.version;
        records.push(parsed as unknown as RunRecord);
      } catch (error) {
        this.log.warn(`Ignoring the unreadable run record ${name}: ${errorMessage(error)}`);
        await rm(file, { force: true });
      }
    }
    return records;
  }

  /** Writes the record soon; writes of one run never overlap, and only the newest is written. */
  save(record: RunRecord): void {
    const uuid = record.spec.uuid;
    this.pending.set(uuid, record);
    if (this.writing.has(uuid)) return;
    const write = this.drain(uuid).finally(() => this.writing.delete(uuid));
    this.writing.set(uuid, write);
  }

  /** Removes the run's record once any write of it has ended. */
  async remove(uuid: string): Promise<void> {
    this.pending.delete(uuid);
    await this.writing.get(uuid);
    await rm(this.fileOf(uuid), { force: true });
  }

  /** Resolves when every record saved so far is on disk (or failed to be written). */
  async flush(): Promise<void> {
    await Promise.all([...this.writing.values()]);
  }

  private async drain(uuid: string): Promise<void> {
    for (let record = this.pending.get(uuid); record !== undefined; record = this.pending.get(uuid)) {
      this.pending.delete(uuid);
      try {
        await writeFileAtomic(this.fileOf(uuid), `${JSON.stringify({ version: RECORD_VERSION, ...record })}\n`, { mode: 0o600 });
      } catch (error) {
        // A full disk, say: the run goes on, but a restart before the next good write cannot take it up again.
        this.log.child({ run: uuid }).warn(`Could not save the run's record: ${errorMessage(error)}`);
      }
    }
  }

  private fileOf(uuid: string): string {
    return path.join(this.dir, `${uuid}.json`);
  }
}
