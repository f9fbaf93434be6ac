// The line a run's command prints on the container's own stdout as it ends: its exit status and
// the kernel's count of OOM kills in the container's memory cgroup. The engine reports an exit
// only after tearing the container's network down (~0.1 s); the container's stdout closes before
// that, once every process in it has ended, so a report read up to that close tells the exit early.
// The run's user output goes to files, never to this stdout. A run's own processes could print a
// false report, and so misstate only their own exit, as they could by exiting with another code.

/**
 * Ends a bash script: prints the report of the status `$?` of what ran before it (on a line of its
 * own, whatever was printed before), and exits with that status.
 */
export const EXIT_REPORT_SCRIPT =
  's=$?; k=-; for f in /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control; do ' +
  '[ -r "$f" ] || continue; while read -r n v; do [ "$n" = oom_kill ] && k=$v; done <"$f"; break; done; ' +
  'printf "\\ncodalab-exit %s %s\\n" "$s" "$k"; exit $s';

export interface ExitReport {
  exitCode: number;
  /** OOM kills the kernel counted in the container; null when the command could not read the count. */
  oomKills: number | null;
}

/** The report on the last line of `text` (a trailing newline allowed); null when that line is none. */
export function parseExitReport(text: string): ExitReport | null {
  const lines = text.replace(/\n$/, '').split('\n');
  const match = /^codalab-exit (\d{1,3}) (\d+|-)$/.exec(lines[lines.length - 1] ?? '');
  if (!match) return null;
  return { exitCode: Number(match[1]), oomKills: match[2] === '-' ? null : Number(match[2]) };
}

/** Most bytes of the stdout kept: the report is its last line, and a run may print much more there. */
const TAIL_BYTES = 256;

/**
 * Keeps the end of a container's stdout as the engine's attach stream sends it without a TTY:
 * frames of an 8-byte header (stream type, 3 zero bytes, payload length big-endian) and payload.
 */
export class StdoutTail {
  private pending = Buffer.alloc(0);
  private tail = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (this.pending.length < 8) return;
      const size = this.pending.readUInt32BE(4);
      const end = 8 + Math.min(size, this.pending.length - 8);
      const payload = this.pending.subarray(8, end);
      this.tail = Buffer.concat([this.tail, payload]).subarray(-TAIL_BYTES);
      if (end - 8 < size) {
        // A frame split over chunks: keep its header, with the length still to come.
        const header = Buffer.from(this.pending.subarray(0, 8));
        header.writeUInt32BE(size - (end - 8), 4);
        this.pending = header;
        return;
      }
      this.pending = this.pending.subarray(end);
    }
  }

  text(): string {
    return this.tail.toString('utf8');
  }
}
