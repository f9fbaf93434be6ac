// Whether a worker's check-in tells the scheduler anything new. Pure. A routine check-in repeats
// the figures of the last one every few seconds; with a thousand workers, a scheduling pass after
// each would hold the server's event loop most of the time and every check-in behind it.
import type { WorkerCheckin } from '../../protocol/index.js';

/** What of a check-in can change a placement: everything but the runs' progress figures. */
export function checkinFingerprint(body: WorkerCheckin, groupUuid: string | null): string {
  const runs = body.runs.map((r) => `${r.uuid}:${r.assignment_id}:${r.state}`);
  return JSON.stringify([{ ...body, runs }, groupUuid]);
}

export interface LastCheckin {
  fingerprint: string;
  time: number;
}

/** News: a worker new or back from silence (longer than `timeoutMs`), or other figures than last time. */
export function isNewsCheckin(last: LastCheckin | undefined, next: LastCheckin, timeoutMs: number): boolean {
  return last === undefined || last.fingerprint !== next.fingerprint || next.time - last.time > timeoutMs;
}
