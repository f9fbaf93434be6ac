// Bundles as the API shows them, and the requests that create or act on them.
// Metadata values are JSON values; the keys users set are listed in METADATA_KEYS.
import { z } from 'zod';
import { commandViolation, dependencyPathViolation, metadataViolation } from './limits.js';
import { stripQueuePrefix, WORKER_TAG_PATTERN, WORKER_TAG_RULE } from './queues.js';
import { BundleState, BundleType } from './states.js';

export const UUID_PATTERN = /^0x[0-9a-f]{32}$/;
export const Uuid = z.string().regex(UUID_PATTERN, 'expected 0x followed by 32 lowercase hex digits');

export const BUNDLE_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_.-]*$/;
/** Dependency keys: relative paths without `..`, as CodaLab allows (`a`, `a/b`, `data.txt`). */
export const CHILD_PATH_PATTERN = /^[a-zA-Z0-9_\-.][a-zA-Z0-9_\-./]*$/;

export const MetadataValue = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())]);
export type MetadataValue = z.infer<typeof MetadataValue>;
export const Metadata = z.record(z.string(), MetadataValue);
export type Metadata = z.infer<typeof Metadata>;

/**
 * Metadata as users send it (create, edit): bounded in keys, names, texts and lists (limits.ts).
 * Stored metadata is read back with plain `Metadata`, so data stored before a limit still shows.
 */
export const MetadataInput = Metadata.superRefine((metadata, ctx) => {
  const violation = metadataViolation(metadata);
  if (violation) ctx.addIssue({ code: 'custom', message: violation.message, path: violation.key ? [violation.key] : [] });
});

export const Dependency = z.object({
  child_path: z.string(),
  parent_uuid: Uuid,
  parent_path: z.string(),
});
export type Dependency = z.infer<typeof Dependency>;

/** A dependency as a creation request names it: both paths stay inside their bundles. */
export const DependencyInput = Dependency.superRefine((dep, ctx) => {
  const violation = dependencyPathViolation(dep);
  if (violation) ctx.addIssue({ code: 'custom', message: violation });
});

/** A run's command as sent at creation: at most COMMAND_MAX_BYTES. */
export const CommandInput = z.string().superRefine((command, ctx) => {
  const violation = commandViolation(command);
  if (violation) ctx.addIssue({ code: 'custom', message: violation });
});

export const DependencyInfo = Dependency.extend({
  parent_name: z.string().nullable(),
  parent_state: BundleState.nullable(),
});
export type DependencyInfo = z.infer<typeof DependencyInfo>;

export const Bundle = z.object({
  uuid: Uuid,
  bundle_type: BundleType,
  command: z.string().nullable(),
  state: BundleState,
  owner_id: z.string(),
  owner_name: z.string(),
  is_dir: z.boolean().nullable(),
  /** Epoch seconds. */
  created: z.number(),
  metadata: Metadata,
  dependencies: z.array(DependencyInfo),
});
export type Bundle = z.infer<typeof Bundle>;

/** Resource requests and options of a run, as stored in its metadata. Sizes in bytes, times in seconds. */
export const RunRequests = z.object({
  request_docker_image: z.string().min(1).optional(),
  request_memory: z.number().int().nonnegative().optional(),
  request_cpus: z.number().int().positive().optional(),
  request_gpus: z.number().int().nonnegative().optional(),
  request_time: z.number().nonnegative().optional(),
  request_disk: z.number().int().nonnegative().optional(),
  /** A worker tag, optionally written `tag=NAME` as CodaLab's docs do. */
  request_queue: z
    .string()
    .refine((queue) => WORKER_TAG_PATTERN.test(stripQueuePrefix(queue)), WORKER_TAG_RULE)
    .optional(),
  request_priority: z.number().int().optional(),
  request_network: z.boolean().optional(),
  exclude_patterns: z.array(z.string()).optional(),
  /** Stage even when parents are `failed` or `killed`, and run on what they left (CodaLab's name). */
  allow_failed_dependencies: z.boolean().optional(),
});
export type RunRequests = z.infer<typeof RunRequests>;

export const CreateBundleRequest = z.object({
  bundle_type: z.enum(['dataset', 'run', 'make']),
  command: CommandInput.optional(),
  metadata: MetadataInput,
  dependencies: z.array(DependencyInput).default([]),
});
export type CreateBundleRequest = z.infer<typeof CreateBundleRequest>;

/** Resolve bundle specs (without sub-paths) relative to a worksheet. */
export const ResolveRequest = z.object({
  worksheet: Uuid.optional(),
  specs: z.array(z.string().min(1)).min(1),
});
export type ResolveRequest = z.infer<typeof ResolveRequest>;

export const ResolveResponse = z.object({ uuids: z.array(Uuid) });
export type ResolveResponse = z.infer<typeof ResolveResponse>;

export const BundleAction = z.object({
  type: z.literal('kill'),
  uuid: Uuid,
});
export type BundleAction = z.infer<typeof BundleAction>;

export const BundleActionResponse = z.object({ uuid: Uuid, state: BundleState });
export type BundleActionResponse = z.infer<typeof BundleActionResponse>;

/** One entry of a contents listing (`cl cat DIR`) or the target of a read. */
export interface TargetInfo {
  name: string;
  type: 'file' | 'directory' | 'link';
  size: number;
  perm: number;
  link?: string;
  contents?: TargetInfo[];
}
export const TargetInfo: z.ZodType<TargetInfo> = z.lazy(() =>
  z.object({
    name: z.string(),
    type: z.enum(['file', 'directory', 'link']),
    size: z.number(),
    perm: z.number(),
    link: z.string().optional(),
    contents: z.array(TargetInfo).optional(),
  }),
);

/** Header naming what a blob download holds: a raw file or a tar stream of a directory. */
export const TARGET_TYPE_HEADER = 'x-codalab-target-type';
/** The `Upgrade` token a client sends to ask for a download as frames (see common/frames.ts). */
export const FRAMES_PROTOCOL = 'codalab-frames';
/**
 * Marks an upload whose body will come as frames once the connection is switched. Unlike Upgrade,
 * proxies pass it on: an upload that has it on a connection that was not switched (a proxy dropped
 * Upgrade) is refused with HTTP 426 and FRAMES_NOT_UPGRADED, never stored empty, and the client then
 * sends it as an ordinary body.
 */
export const FRAMED_UPLOAD_HEADER = 'x-codalab-framed-upload';
export const FRAMES_NOT_UPGRADED = 'This upload asked for frames, but its connection was not switched to them; send it as an ordinary body.';
/** A framed download's byte count, where the server knows it (a file): a 101 answer has no Content-Length. */
export const FRAMED_SIZE_HEADER = 'x-codalab-size';
