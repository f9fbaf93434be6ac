// Live statistics of a Docker container read straight from its cgroup files (cgroup v1 with the
// cgroupfs driver and parent `docker`, or cgroup v2 under docker/ or system.slice/), because
// the Engine's one-shot stats call takes about a second per container. Reads only; never throws.
import { readFile } from 'node:fs/promises';

export interface ContainerStats {
  /** Bytes in use now, without the page cache that can be dropped (as `docker stats` shows). */
  memory: number | null;
  /** Peak bytes in use (page cache included, as the kernel counts it), when the kernel keeps it. */
  memoryMax: number | null;
  /** CPU seconds used so far: total, user and system. */
  cpuSeconds: number | null;
  userSeconds: number | null;
  systemSeconds: number | null;
}

/** USER_HZ: cpuacct.stat counts ticks of 1/100 s on Linux. */
const TICKS_PER_SECOND = 100;

export async function readCgroupStats(id: string, root = '/sys/fs/cgroup'): Promise<ContainerStats | null> {
  const v1 = await readV1(id, root);
  if (v1 !== null) return v1;
  for (const dir of [`${root}/system.slice/docker-${id}.scope`, `${root}/docker/${id}`]) {
    const v2 = await readV2(dir);
    if (v2 !== null) return v2;
  }
  return null;
}

async function readV1(id: string, root: string): Promise<ContainerStats | null> {
  const memoryDir = `${root}/memory/docker/${id}`;
  const cpuDir = `${root}/cpuacct/docker/${id}`;
  const usage = await readNumber(`${memoryDir}/memory.usage_in_bytes`);
  const cpuNanos = await readNumber(`${cpuDir}/cpuacct.usage`);
  if (usage === null && cpuNanos === null) return null;
  const memoryStat = await readKeyValues(`${memoryDir}/memory.stat`);
  const cpuStat = await readKeyValues(`${cpuDir}/cpuacct.stat`);
  const inactive = memoryStat.get('total_inactive_file') ?? 0;
  return {
    memory: usage === null ? null : Math.max(0, usage - inactive),
    memoryMax: await readNumber(`${memoryDir}/memory.max_usage_in_bytes`),
    cpuSeconds: cpuNanos === null ? null : cpuNanos / 1e9,
    userSeconds: ticks(cpuStat.get('user')),
    systemSeconds: ticks(cpuStat.get('system')),
  };
}

async function readV2(dir: string): Promise<ContainerStats | null> {
  const current = await readNumber(`${dir}/memory.current`);
  const cpuStat = await readKeyValues(`${dir}/cpu.stat`);
  if (current === null && cpuStat.size === 0) return null;
  const memoryStat = await readKeyValues(`${dir}/memory.stat`);
  const micros = (key: string): number | null => {
    const value = cpuStat.get(key);
    return value === undefined ? null : value / 1e6;
  };
  return {
    memory: current === null ? null : Math.max(0, current - (memoryStat.get('inactive_file') ?? 0)),
    memoryMax: await readNumber(`${dir}/memory.peak`),
    cpuSeconds: micros('usage_usec'),
    userSeconds: micros('user_usec'),
    systemSeconds: micros('system_usec'),
  };
}

function ticks(value: number | undefined): number | null {
  return value === undefined ? null : value / TICKS_PER_SECOND;
}

async function readNumber(file: string): Promise<number | null> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return null;
  const value = Number(text.trim());
  return Number.isFinite(value) ? value : null;
}

/** `key value` lines (memory.stat, cpu.stat, cpuacct.stat). */
export async function readKeyValues(file: string): Promise<Map<string, number>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, raw] = line.trim().split(/\s+/);
    const value = Number(raw);
    if (key && raw !== undefined && Number.isFinite(value)) values.set(key, value);
  }
  return values;
}
