// The Docker calls a run makes while preparing (image, create, start), made patient: an
// unreachable Docker is waited for, and a kill or a stop does not wait on a call that cannot be
// cancelled. It changes no run state itself; status texts and failures go back to the caller.
import { errorMessage } from '../../common/error-message.js';
import { isRuntimeError } from '../docker/container-runtime.js';
import type { DockerHealth } from '../docker/docker-health.js';
import { ImageUnavailableError } from '../images/image-cache.js';

export interface DockerCallHooks {
  onStatus(text: string): void;
  /** A permanent failure of the call: the run fails with this message. */
  onFailed(message: string): void;
}

/**
 * Runs a Docker call, waiting for Docker while it is unreachable (the run stays preparing).
 * A permanent failure fails the run. Returns null when the run will not go on.
 */
export async function withDocker<T>(
  docker: DockerHealth,
  call: () => Promise<T>,
  signal: AbortSignal,
  step: 'image' | 'start',
  hooks: DockerCallHooks,
): Promise<T | null> {
  for (;;) {
    if (!docker.ok) {
      hooks.onStatus(`Waiting for Docker: ${docker.message ?? 'unreachable'}`);
      if (!(await docker.waitUntilReachable(signal))) return null;
    }
    if (signal.aborted) return null;
    try {
      // A kill does not wait for a call that cannot be cancelled (an image pull from a slow registry).
      return await untilAborted(call(), signal);
    } catch (error) {
      if (isRuntimeError(error, 'unreachable')) {
        docker.markDown(error);
        continue;
      }
      if (signal.aborted) return null;
      const message = error instanceof ImageUnavailableError || step === 'image'
        ? errorMessage(error)
        : `Cannot start Docker container: ${errorMessage(error)}`;
      hooks.onFailed(message);
      return null;
    }
  }
}

/** Settles like `promise`, or rejects as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
