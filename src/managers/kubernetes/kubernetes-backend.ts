// Workers as Kubernetes pods: one pod per worker, its CPU, memory and GPU (nvidia.com/gpu)
// requests and limits from the worker's shape, so the cluster reserves the node room the runs
// will use (the runs themselves are the node's Docker containers, through the mounted socket).
// The credentials live in one Secret per manager, referenced from the pods and deleted once no pod
// is left; pods and Secret carry the manager's name as a label. Only API calls here: what to start is decided elsewhere.
import { ApiException, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import path from 'node:path';
import type { Credentials } from '../../common/credentials.js';
import type { KubernetesBackendConfig } from '../config.js';
import type { BackendJob, WorkerBackend, WorkerLaunch } from '../worker-backend.js';
import { workerPod } from './worker-pod.js';

export const MANAGER_LABEL = 'codalab.org/worker-manager';
export const MANAGED_WORKER_LABEL = 'codalab.org/managed-worker';

function kubeConfigOf(config: KubernetesBackendConfig): KubeConfig {
  const kc = new KubeConfig();
  if (config.apiServer !== null) {
    // The library refuses a plain http:// server unless told to skip TLS checks; such a server has
    // no TLS to check (kubectl proxy on loopback), so that is all it means there.
    const plainHttp = config.apiServer.startsWith('http://');
    kc.loadFromOptions({
      clusters: [{ name: 'codalab', server: config.apiServer, skipTLSVerify: plainHttp }],
      users: [{ name: 'codalab', token: config.token ?? undefined }],
      contexts: [{ name: 'codalab', cluster: 'codalab', user: 'codalab' }],
      currentContext: 'codalab',
    });
  } else if (config.kubeconfig !== null) {
    kc.loadFromFile(config.kubeconfig);
  } else {
    kc.loadFromDefault();
  }
  return kc;
}

export class KubernetesWorkerBackend implements WorkerBackend {
  readonly name = 'kubernetes';
  private readonly api: CoreV1Api;
  private secretWritten = false;
  /** Whether the Secret may be there: one an earlier manager left, or this one's. */
  private secretMayExist = true;

  constructor(
    private readonly config: KubernetesBackendConfig,
    private readonly managerName: string,
  ) {
    this.api = kubeConfigOf(config).makeApiClient(CoreV1Api);
  }

  /** The Secret holding the credentials, one per manager. */
  get secretName(): string {
    return `${this.managerName}-credentials`;
  }

  async listJobs(): Promise<BackendJob[]> {
    const list = await this.api.listNamespacedPod({ namespace: this.config.namespace, labelSelector: `${MANAGER_LABEL}=${this.managerName}` });
    // The credentials must not outlive the workers that read them: with no pod left, the Secret goes.
    if (list.items.length === 0 && this.secretMayExist) await this.deleteSecret();
    return list.items.map((pod) => ({
      id: pod.metadata?.labels?.[MANAGED_WORKER_LABEL] ?? pod.metadata?.name ?? '',
      state: podState(pod),
      createdAt: pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).getTime() : 0,
      detail: podDetail(pod),
    }));
  }

  async startJob(launch: WorkerLaunch): Promise<void> {
    await this.writeSecret(launch.credentials);
    const workDir = path.posix.join(this.config.workDirRoot, launch.id);
    const labels = { [MANAGER_LABEL]: this.managerName, [MANAGED_WORKER_LABEL]: launch.id };
    const body = workerPod(launch, { ...this.config, workDir, labels, secretName: this.secretName });
    await this.api.createNamespacedPod({ namespace: this.config.namespace, body });
  }

  async removeJob(id: string): Promise<void> {
    try {
      await this.api.deleteNamespacedPod({ name: id, namespace: this.config.namespace });
    } catch (error) {
      // Already gone: what was asked for holds.
      if (!(error instanceof ApiException && error.code === 404)) throw error;
    }
  }

  /** Creates the Secret, or replaces one left by an earlier start (the password may have changed). */
  private async writeSecret(credentials: Credentials): Promise<void> {
    if (this.secretWritten) return;
    const body = {
      metadata: { name: this.secretName, labels: { [MANAGER_LABEL]: this.managerName } },
      type: 'Opaque',
      stringData: { username: credentials.username, password: credentials.password },
    };
    try {
      await this.api.createNamespacedSecret({ namespace: this.config.namespace, body });
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 409)) throw error;
      await this.api.replaceNamespacedSecret({ name: this.secretName, namespace: this.config.namespace, body });
    }
    this.secretWritten = true;
    this.secretMayExist = true;
  }

  private async deleteSecret(): Promise<void> {
    try {
      await this.api.deleteNamespacedSecret({ name: this.secretName, namespace: this.config.namespace });
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 404)) throw error;
    }
    this.secretWritten = false;
    this.secretMayExist = false;
  }
}

function podState(pod: V1Pod): BackendJob['state'] {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return 'finished';
  if (phase === 'Running') return 'running';
  return 'pending';
}

function podDetail(pod: V1Pod): string | null {
  const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
  if (terminated) return `exit code ${terminated.exitCode}${terminated.reason ? `, ${terminated.reason}` : ''}`;
  const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
  if (waiting?.reason) return waiting.reason;
  return pod.status?.phase ?? null;
}
