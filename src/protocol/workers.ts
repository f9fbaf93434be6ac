// Everything that travels between a worker and the server. Workers connect out and never accept
// connections: they check in with their resources and the runs they hold, long-poll for messages,
// and report each run's progress naming the assignment it belongs to, so a stale report is ignored.
import { z } from 'zod';
import { Dependency, Metadata, Uuid } from './bundles.js';
import { PortMessage, ReadMessage, WriteMessage } from './live-runs.js';
import { WORKER_TAG_PATTERN, WORKER_TAG_RULE } from './queues.js';
import { ReportedRunState } from './states.js';

export const WORKER_ID_PATTERN = /^[a-zA-Z0-9_.:@-]{1,100}$/;

/** Resources a run gets, fully resolved by the server (defaults applied). Sizes in bytes, time in seconds; 0 means no limit. */
export const RunResources = z.object({
  docker_image: z.string().min(1),
  cpus: z.number().int().positive(),
  gpus: z.number().int().nonnegative(),
  memory: z.number().int().positive(),
  disk: z.number().int().nonnegative(),
  time: z.number().nonnegative(),
  network: z.boolean(),
});
export type RunResources = z.infer<typeof RunResources>;

export const RunSpec = z.object({
  uuid: Uuid,
  command: z.string().min(1),
  owner_id: z.string(),
  dependencies: z.array(
    Dependency.extend({
      /** Bytes of the parent bundle when the dependency is all of it and its size is known: the total of download progress. */
      data_size: z.number().int().nonnegative().optional(),
      /**
       * Where the parent's contents lie in the server's bundle store (an absolute path): sent only
       * to a worker that shares the server's file system, which mounts them from there instead of
       * downloading them.
       */
      location: z.string().min(1).optional(),
    }),
  ),
  resources: RunResources,
  exclude_patterns: z.array(z.string()),
  /**
   * Sent only to a worker that shares the server's file system: where it may move the finished
   * run's files (an absolute path in the bundle store) for the server to take as the run's
   * contents, instead of uploading them.
   */
  results_location: z.string().min(1).optional(),
});
export type RunSpec = z.infer<typeof RunSpec>;

export const RunMessage = z.object({
  type: z.literal('run'),
  assignment_id: z.string(),
  run: RunSpec,
});
export const KillMessage = z.object({
  type: z.literal('kill'),
  uuid: Uuid,
  assignment_id: z.string(),
  message: z.string(),
});
export const WorkerMessage = z.discriminatedUnion('type', [RunMessage, KillMessage, ReadMessage, WriteMessage, PortMessage]);
export type RunMessage = z.infer<typeof RunMessage>;
export type KillMessage = z.infer<typeof KillMessage>;
export type WorkerMessage = z.infer<typeof WorkerMessage>;

export const MessagesResponse = z.object({ messages: z.array(WorkerMessage) });
export type MessagesResponse = z.infer<typeof MessagesResponse>;

/**
 * A message list as a worker reads it: each message on its own, so that one it does not know (a
 * newer server's) is set aside instead of failing the whole list with the runs and kills in it.
 */
export const IncomingMessages = z.array(z.unknown()).transform((list) => {
  const messages: WorkerMessage[] = [];
  const unknown: string[] = [];
  for (const item of list) {
    const parsed = WorkerMessage.safeParse(item);
    if (parsed.success) messages.push(parsed.data);
    else unknown.push(describeMessage(item));
  }
  return { messages, unknown };
});

function describeMessage(item: unknown): string {
  const type = typeof item === 'object' && item !== null ? (item as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? `a '${type.slice(0, 40)}' message` : 'a message without a type';
}

/**
 * Generated metadata a worker reports for a run (seconds, bytes, epoch seconds). Only these
 * keys are accepted from workers; everything else in a bundle's metadata is the user's.
 */
export const RunProgress = z
  .object({
    run_status: z.string(),
    docker_image: z.string(),
    started: z.number(),
    remote: z.string(),
    time: z.number(),
    time_preparing: z.number(),
    time_running: z.number(),
    time_uploading_results: z.number(),
    memory_max: z.number(),
    data_size: z.number(),
    /** What the run was given on its worker: CPU indices (`0,1`) and GPU UUIDs, comma-separated. */
    cpuset: z.string(),
    gpuset: z.string(),
    /** Live statistics of the container (cgroup counters): CPU seconds, current memory bytes. */
    time_user: z.number(),
    time_system: z.number(),
    /** CPU cores used over the last sample, as a fraction of the requested CPUs. */
    cpu_usage: z.number(),
    memory: z.number(),
  })
  .partial();
export type RunProgress = z.infer<typeof RunProgress>;

export const RunReport = z.object({
  uuid: Uuid,
  assignment_id: z.string(),
  state: ReportedRunState,
  progress: RunProgress,
});
export type RunReport = z.infer<typeof RunReport>;

export const WorkerCheckin = z.object({
  protocol_version: z.number().int(),
  hostname: z.string(),
  tag: z.string().regex(WORKER_TAG_PATTERN, WORKER_TAG_RULE).nullable(),
  tag_exclusive: z.boolean(),
  cpus: z.number().int().nonnegative(),
  gpus: z.number().int().nonnegative(),
  memory_bytes: z.number().int().nonnegative(),
  free_disk_bytes: z.number().int().nonnegative(),
  slots: z.number().int().positive(),
  /** Runs still allowed before the worker exits (`--exit-after-num-runs`); null when unlimited. */
  runs_left: z.number().int().nonnegative().nullable(),
  /** `uuid:path` of every dependency in the worker's cache, for locality. */
  cached_dependencies: z.array(z.string()),
  runs: z.array(RunReport),
  docker_ok: z.boolean(),
  docker_message: z.string().nullable(),
  /** UUIDs of the GPUs handed to runs (found with nvidia-smi); `gpus` is their number. */
  gpu_uuids: z.array(z.string()).optional(),
  /** Why GPU detection failed, when it did (e.g. nvidia-smi exited with an error). */
  gpu_message: z.string().nullable().optional(),
  /**
   * Runs this worker is taking on but does not report yet (its start request is in flight): the
   * server must not count them as lost when they are missing from `runs`.
   */
  pending_runs: z.array(z.object({ uuid: Uuid, assignment_id: z.string() })).optional(),
  /** `--group NAME`: the group whose members' runs this worker takes too (its owner must be a member). */
  group: z.string().min(1).max(200).nullable().optional(),
  /** `--shared-file-system`: the worker sees the server's bundle store at the same paths. */
  shared_file_system: z.boolean().optional(),
});
export type WorkerCheckin = z.infer<typeof WorkerCheckin>;

export const CheckinResponse = z.object({
  /** Server-chosen check-in period the worker should keep to, in seconds. */
  checkin_seconds: z.number().positive(),
  messages: z.array(WorkerMessage),
});
export type CheckinResponse = z.infer<typeof CheckinResponse>;

/** The two answers that carry messages, as a worker reads them (see IncomingMessages). */
export const IncomingCheckinResponse = CheckinResponse.extend({ messages: IncomingMessages });
export type IncomingCheckinResponse = z.infer<typeof IncomingCheckinResponse>;
export const IncomingMessagesResponse = z.object({ messages: IncomingMessages });
export type IncomingMessagesResponse = z.infer<typeof IncomingMessagesResponse>;

export const StartRunRequest = z.object({ assignment_id: z.string(), hostname: z.string() });
export type StartRunRequest = z.infer<typeof StartRunRequest>;

export const AcceptedResponse = z.object({ accepted: z.boolean(), reason: z.string().optional() });
export type AcceptedResponse = z.infer<typeof AcceptedResponse>;

/** The end of a run, sent after its contents were uploaded (or failed to upload). */
export const FinishRunRequest = z.object({
  assignment_id: z.string(),
  exitcode: z.number().int().nullable(),
  failure_message: z.string().nullable(),
  killed: z.boolean(),
  progress: RunProgress,
  /**
   * The worker hands the run back unfinished (`--pass-down-termination` on shutdown): the server
   * stages it again for another worker instead of ending it. Nothing was uploaded.
   */
  restage: z.boolean().optional(),
});
export type FinishRunRequest = z.infer<typeof FinishRunRequest>;

export const WorkerInfo = z.object({
  id: z.string(),
  owner_name: z.string(),
  hostname: z.string(),
  tag: z.string().nullable(),
  tag_exclusive: z.boolean(),
  cpus: z.number(),
  cpus_in_use: z.number(),
  gpus: z.number(),
  gpus_in_use: z.number(),
  memory_bytes: z.number(),
  free_disk_bytes: z.number(),
  slots: z.number(),
  runs: z.array(Uuid),
  /** Epoch seconds of the last check-in. */
  checkin_time: z.number(),
  online: z.boolean(),
  docker_ok: z.boolean(),
  docker_message: z.string().nullable(),
  /** Something the owner should act on, e.g. a worker that reported GPUs before and reports none now. */
  warning: z.string().nullable().optional(),
});
export type WorkerInfo = z.infer<typeof WorkerInfo>;

export const RunMetadataUpdate = Metadata;
