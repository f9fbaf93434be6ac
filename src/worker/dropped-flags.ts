// The CodaLab `cl-worker` flags we do not support, each with the reason and what to use instead.
// parseWorkerArgs registers them (src/common/dropped-flags.ts) so that the worker explains them
// when used; test/conformance/cli-flags.test.ts keeps this list equal to its table of gaps.
import type { DroppedFlag } from '../common/dropped-flags.js';

const DOCKER_ONLY = 'runs always use the Docker Engine of the machine the worker runs on.';

export const DROPPED_WORKER_FLAGS: readonly DroppedFlag[] = [
  { flags: '--ws-server', reason: 'the worker gets its work over its own connection to --server; there is no second address.' },
  { flags: '--preemptible', reason: 'the runs of a worker that is lost become worker_offline.' },
  { flags: '--exit-on-exception', reason: 'an error the worker cannot recover from ends it with exit status 1.' },
  { flags: '--delete-work-dir-on-exit', reason: 'remove the --work-dir yourself after the worker exits.' },
  { flags: '--network-prefix', reason: 'choose the Docker network of runs with --run-network NAME.' },
  { flags: '--download-dependencies-max-retries', reason: 'a failed download is tried again when a run next needs it.' },
  { flags: '--max-image-size', reason: 'image sizes are not checked before a pull.' },
  { flags: '--bundle-runtime', reason: DOCKER_ONLY },
  { flags: '--kubernetes-cluster-host', reason: DOCKER_ONLY },
  { flags: '--kubernetes-auth-token', reason: DOCKER_ONLY },
  { flags: '--kubernetes-cert-path', reason: DOCKER_ONLY },
  { flags: '--kubernetes-cert', reason: DOCKER_ONLY },
];
