// The pod of one managed worker, pure: cl-worker with the worker's arguments, credentials from the
// manager's Secret, resource requests equal to limits (the shape), and the node's Docker socket
// and work dir mounted at the same paths (the runs are sibling containers on the node).
import type { V1Pod } from '@kubernetes/client-node';
import type { KubernetesBackendConfig } from '../config.js';
import type { WorkerLaunch } from '../worker-backend.js';

export interface WorkerPodOptions extends Pick<KubernetesBackendConfig, 'image' | 'workerCommand' | 'nodeSelector' | 'dockerSocket'> {
  workDir: string;
  labels: Record<string, string>;
  secretName: string;
}

export function workerPod(launch: WorkerLaunch, o: WorkerPodOptions): V1Pod {
  const { cpus, gpus, memoryBytes } = launch.shape;
  const resources: Record<string, string> = { cpu: String(cpus), memory: String(memoryBytes) };
  const limits = gpus > 0 ? { ...resources, 'nvidia.com/gpu': String(gpus) } : resources;
  const fromSecret = (key: string) => ({ valueFrom: { secretKeyRef: { name: o.secretName, key } } });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: launch.id, labels: o.labels },
    spec: {
      restartPolicy: 'Never',
      ...(Object.keys(o.nodeSelector).length > 0 ? { nodeSelector: { ...o.nodeSelector } } : {}),
      containers: [
        {
          name: 'cl-worker',
          image: o.image,
          command: [o.workerCommand, ...launch.args, '--work-dir', o.workDir, '--docker-socket', '/var/run/docker.sock'],
          env: [
            { name: 'CODALAB_USERNAME', ...fromSecret('username') },
            { name: 'CODALAB_PASSWORD', ...fromSecret('password') },
          ],
          resources: { requests: resources, limits },
          volumeMounts: [
            { name: 'docker-socket', mountPath: '/var/run/docker.sock' },
            { name: 'work-dir', mountPath: o.workDir },
          ],
        },
      ],
      volumes: [
        { name: 'docker-socket', hostPath: { path: o.dockerSocket, type: 'Socket' } },
        { name: 'work-dir', hostPath: { path: o.workDir, type: 'DirectoryOrCreate' } },
      ],
    },
  };
}
