// The standard metadata keys of each bundle type, as CodaLab's metadata specs list them (hidden
// ones such as error_traceback left out): `cl info --raw` shows every one, empty or not, and the
// plain view uses the same order. Pure data.
import type { BundleType } from '../../protocol/index.js';

const COMMON = ['name', 'description', 'tags', 'created', 'data_size', 'failure_message'];

const BY_TYPE: Record<BundleType, readonly string[]> = {
  dataset: [...COMMON, 'license', 'source_url', 'link_url', 'link_format'],
  make: [...COMMON, 'allow_failed_dependencies', 'staged_status', 'store'],
  run: [
    ...COMMON,
    'allow_failed_dependencies',
    'request_docker_image',
    'request_time',
    'request_memory',
    'request_disk',
    'request_cpus',
    'request_gpus',
    'request_queue',
    'request_priority',
    'request_network',
    'exclude_patterns',
    'store',
    'actions',
    'time',
    'time_user',
    'time_system',
    'memory',
    'memory_max',
    'cpu_usage',
    'memory_usage',
    'started',
    'last_updated',
    'run_status',
    'staged_status',
    'time_preparing',
    'time_running',
    'time_cleaning_up',
    'time_uploading_results',
    'docker_image',
    'exitcode',
    'job_handle',
    'remote',
    'remote_history',
    'on_preemptible_worker',
  ],
};

export function standardMetadataKeys(type: BundleType): readonly string[] {
  return BY_TYPE[type];
}
