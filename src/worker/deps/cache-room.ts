// Making room in the dependency cache: which unused entries to evict (least recently used first)
// so that the cache stays under its cap and the disk keeps its reserve, and the one-line message
// when no eviction can make enough room. Pure: the cache does the deleting and the disk reading.
import { formatSize } from '../../common/sizes.js';

export interface RoomCandidate {
  name: string;
  sizeBytes: number;
  lastUsed: number;
  /** Complete and held by no run: the only kind that may be evicted. */
  isEvictable: boolean;
}

export interface RoomRequest {
  /** Bytes every entry (complete or downloading) accounts for now. */
  usedBytes: number;
  /** How much the cache is about to grow. */
  growBytes: number;
  /** Bytes still to be written to disk (0 when the free figure already counts them). */
  writeBytes: number;
  capBytes: number;
  /** Free disk of the work dir now; Infinity when not measured for this check. */
  freeBytes: number;
  reserveBytes: number;
}

export type RoomPlan = { fits: true; evict: string[] } | { fits: false; limit: 'cap' | 'reserve'; shortBytes: number };

/** The least recently used evictable entries that make the request fit, or why nothing can. */
export function planRoom(candidates: readonly RoomCandidate[], request: RoomRequest): RoomPlan {
  let used = request.usedBytes;
  let free = request.freeBytes;
  const overCap = (): number => used + request.growBytes - request.capBytes;
  const underReserve = (): number => request.reserveBytes - (free - request.writeBytes);
  const evict: string[] = [];
  const lru = candidates.filter((c) => c.isEvictable).sort((a, b) => a.lastUsed - b.lastUsed);
  for (const candidate of lru) {
    if (overCap() <= 0 && underReserve() <= 0) break;
    evict.push(candidate.name);
    used -= candidate.sizeBytes;
    free += candidate.sizeBytes;
  }
  // Nothing is evicted for a request that cannot fit anyway: the cache would lose entries for nothing.
  if (overCap() > 0) return { fits: false, limit: 'cap', shortBytes: overCap() };
  if (underReserve() > 0) return { fits: false, limit: 'reserve', shortBytes: underReserve() };
  return { fits: true, evict };
}

export interface NoRoomFacts {
  what: string;
  /** The size announced by the server, or null when not known. */
  sizeBytes: number | null;
  /** Bytes received when the download was stopped part-way; null when it never started. */
  receivedBytes: number | null;
  limit: 'cap' | 'reserve';
  capBytes: number;
  /** Bytes of entries that runs hold or that are downloading, which cannot be evicted. */
  heldBytes: number;
  freeBytes: number;
  reserveBytes: number;
}

/** One line: the sizes involved, the limit hit and the flag that moves it. */
export function noRoomMessage(f: NoRoomFacts): string {
  const size = f.sizeBytes === null ? 'an unknown size' : formatSize(f.sizeBytes);
  const outcome =
    f.receivedBytes === null
      ? `${f.what} (${size}) was not downloaded`
      : `${f.what} was abandoned after ${formatSize(f.receivedBytes)} of ${size}`;
  if (f.limit === 'cap') {
    return (
      `${outcome}: the dependency cache may hold ${formatSize(f.capBytes)} (--max-work-dir-size) and runs hold ` +
      `${formatSize(f.heldBytes)} of it; raise --max-work-dir-size or run this on another worker.`
    );
  }
  return (
    `${outcome}: the work dir's disk has ${formatSize(Math.max(0, f.freeBytes))} free and the worker keeps ` +
    `${formatSize(f.reserveBytes)} of it (--disk-reserve); free disk space, lower --disk-reserve or run this on another worker.`
  );
}

/** Raised when a dependency does not fit; permanent (a retry would find the same sizes). */
export class DependencyTooLargeError extends Error {
  readonly code = 'dependency_too_large';
  constructor(message: string) {
    super(message);
    this.name = 'DependencyTooLargeError';
  }
}
