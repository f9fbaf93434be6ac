// Workers as Docker containers on this host. Each container runs this host's Node binary and this
// checkout's bin/cl-worker (both mounted read-only) in a plain glibc image, on the host network so
// it reaches a server on loopback, with the Docker socket mounted: its runs are sibling
// containers, so its work dir is mounted at the same path inside as outside. Containers carry the
// manager's name as a label, which is how a restarted manager finds its own again.
import { mkdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import type { DockerBackendConfig } from '../config.js';
import type { BackendJob, WorkerBackend, WorkerLaunch } from '../worker-backend.js';

export const MANAGER_LABEL = 'org.codalab.worker-manager';
export const MANAGED_WORKER_LABEL = 'org.codalab.managed-worker';
/** Where the host's Node binary appears inside worker containers. */
const NODE_IN_CONTAINER = '/usr/local/bin/codalab-node';
const SOCKET_IN_CONTAINER = '/var/run/docker.sock';

export class DockerWorkerBackend implements WorkerBackend {
  readonly name = 'docker';
  private readonly docker: Docker;

  constructor(
    private readonly config: DockerBackendConfig,
    private readonly managerName: string,
  ) {
    this.docker = new Docker({ socketPath: config.dockerSocket });
  }

  async listJobs(): Promise<BackendJob[]> {
    const containers = await this.docker.listContainers({ all: true, filters: { label: [`${MANAGER_LABEL}=${this.managerName}`] } });
    return containers.map((c) => ({
      id: c.Labels[MANAGED_WORKER_LABEL] ?? (c.Names[0] ?? c.Id).replace(/^\//, ''),
      state: jobState(c.State),
      createdAt: c.Created * 1000,
      detail: c.Status || null,
    }));
  }

  async startJob(launch: WorkerLaunch): Promise<void> {
    const workDir = path.join(this.config.workDirRoot, launch.id);
    mkdirSync(workDir, { recursive: true });
    await this.ensureImage();
    const container = await this.docker.createContainer({
      name: launch.id,
      Image: this.config.image,
      Cmd: [NODE_IN_CONTAINER, path.join(this.config.codalabRoot, 'bin', 'cl-worker'), ...launch.args, '--work-dir', workDir, '--docker-socket', SOCKET_IN_CONTAINER],
      // In the environment, so the password file need not be readable in the container: whoever can
      // inspect the container can use the Docker socket too, which is root on this host anyway.
      Env: [`CODALAB_USERNAME=${launch.credentials.username}`, `CODALAB_PASSWORD=${launch.credentials.password}`],
      Labels: { [MANAGER_LABEL]: this.managerName, [MANAGED_WORKER_LABEL]: launch.id },
      HostConfig: { NetworkMode: 'host', Binds: this.binds(workDir) },
    });
    await container.start();
  }

  async removeJob(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true });
    } catch (error) {
      // Already gone (removed by hand, or by an earlier round): what was asked for holds.
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
  }

  private binds(workDir: string): string[] {
    const root = this.config.codalabRoot;
    const binds = [`${this.config.nodeBinary}:${NODE_IN_CONTAINER}:ro`, `${root}:${root}:ro`, `${this.config.dockerSocket}:${SOCKET_IN_CONTAINER}`, `${workDir}:${workDir}`];
    // A checkout whose node_modules links elsewhere (a worktree) needs the target at its own path too.
    const modules = path.join(root, 'node_modules');
    const real = realpathOrNull(modules);
    if (real !== null && real !== modules && !real.startsWith(`${root}/`)) binds.push(`${real}:${real}:ro`);
    return binds;
  }

  private async ensureImage(): Promise<void> {
    try {
      await this.docker.getImage(this.config.image).inspect();
      return;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
    const stream = await this.docker.pull(this.config.image);
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve()));
    });
  }
}

function jobState(state: string): BackendJob['state'] {
  if (state === 'created') return 'pending';
  if (state === 'exited' || state === 'dead' || state === 'removing') return 'finished';
  return 'running';
}

function realpathOrNull(file: string): string | null {
  try {
    return realpathSync(file);
  } catch {
    return null;
  }
}
