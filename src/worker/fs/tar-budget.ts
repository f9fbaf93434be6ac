// The byte budget of a tar stream: what each entry costs in stream bytes (header, content,
// padding), what is left of the budget, and the tally of what it left out. Pure bookkeeping:
// tree-tar decides the order of entries and does the reading.
import { TAR_BLOCK, tarPadding } from './tar-header.js';

/** Two empty blocks end every archive; the budget always keeps room for them. */
export const END_OF_ARCHIVE_BYTES = TAR_BLOCK * 2;

/** What a budgeted tar kept and left out; complete once its stream has ended. */
export interface TarBudgetReport {
  /** Content bytes of the files written (of a cut file, what was kept of it). */
  keptBytes: number;
  /** Files (and links) left out or cut, and their content bytes that were not written. */
  droppedFiles: number;
  droppedBytes: number;
  /** Files of which only the head was written: relative name and bytes kept. */
  cut: Array<{ name: string; keptBytes: number }>;
}

export function emptyReport(): TarBudgetReport {
  return { keptBytes: 0, droppedFiles: 0, droppedBytes: 0, cut: [] };
}

/** Stream bytes of one file entry: its header(s), `size` bytes of content, then the padding. */
export function fileEntryBytes(headerBytes: number, size: number): number {
  return headerBytes + size + tarPadding(size);
}

export class TarBudget {
  readonly report: TarBudgetReport = emptyReport();
  private left: number;

  /** `maxBytes` for the whole stream, end-of-archive included; Infinity for no limit. */
  constructor(maxBytes: number) {
    this.left = maxBytes - END_OF_ARCHIVE_BYTES;
  }

  get isLimited(): boolean {
    return Number.isFinite(this.left);
  }

  /** Stream bytes still free, end-of-archive set aside. */
  get remaining(): number {
    return Math.max(0, this.left);
  }

  /** Takes `bytes` of the budget when they fit; false (and nothing taken) when they do not. */
  take(bytes: number): boolean {
    if (bytes > this.left) return false;
    this.left -= bytes;
    return true;
  }

  /** The root's own header: written whatever the budget, so the archive is never empty of it. */
  spend(bytes: number): void {
    this.left -= bytes;
  }

  /** Takes a whole file entry when it fits, counting it kept; false when it does not fit. */
  takeFile(headerBytes: number, size: number): boolean {
    if (!this.take(fileEntryBytes(headerBytes, size))) return false;
    this.report.keptBytes += size;
    return true;
  }

  /**
   * The most content bytes a cut file can keep while leaving `reserve` stream bytes for what
   * comes after it: whole blocks, so the entry's padding costs nothing extra. 0 when not even
   * its header fits.
   */
  cutSize(headerBytes: number, size: number, reserve: number): number {
    const room = this.left - reserve - headerBytes;
    if (room <= 0) return 0;
    return Math.min(size, Math.floor(room / TAR_BLOCK) * TAR_BLOCK);
  }

  /** Takes a cut file entry of `kept` of its `size` bytes and records the cut. */
  takeCut(name: string, headerBytes: number, size: number, kept: number): void {
    this.left -= fileEntryBytes(headerBytes, kept);
    this.report.keptBytes += kept;
    this.report.droppedFiles += 1;
    this.report.droppedBytes += size - kept;
    this.report.cut.push({ name, keptBytes: kept });
  }

  /** Counts a file (or link, of size 0) left out. */
  drop(size: number): void {
    this.report.droppedFiles += 1;
    this.report.droppedBytes += size;
  }
}

/**
 * Stream bytes to keep free for the entries still to come of a list whose heads may be cut
 * (stdout, stderr): each later one gets at most an equal share of what is left, less when it
 * needs less whole, so a huge stdout cannot crowd out a short stderr.
 */
export function reserveFor(laterCosts: readonly number[], remaining: number): number {
  const share = Math.floor(remaining / (laterCosts.length + 1));
  return laterCosts.reduce((sum, cost) => sum + Math.min(cost, share), 0);
}
