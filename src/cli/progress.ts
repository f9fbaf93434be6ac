// Transfer progress on stderr: a bar for transfers of a few MB and more, and only when stderr is
// a terminal, so logs and scripts never see control characters. Counting happens in a pass-through
// stream, which keeps the body streamed.
import { Transform, type Readable } from 'node:stream';
import cliProgress from 'cli-progress';
import { formatSize } from '../common/sizes.js';
import type { CliIo } from './io.js';

const MIN_BYTES_FOR_BAR = 4 * 1024 * 1024;

export interface TrackedStream {
  stream: Readable;
  /** Ends the bar (if any); call when the transfer is over, whether it succeeded or not. */
  done(): void;
}

export function trackProgress(io: CliIo, source: Readable, totalBytes: number, label: string): TrackedStream {
  if (io.stderr.isTTY !== true || totalBytes < MIN_BYTES_FOR_BAR) return { stream: source, done: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% {sent}/{size}`,
      stream: io.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const size = formatSize(totalBytes);
  let sent = 0;
  bar.start(totalBytes, 0, { sent: '0', size });
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      bar.update(Math.min(sent, totalBytes), { sent: formatSize(sent), size });
      callback(null, chunk);
    },
  });
  source.on('error', (error) => counter.destroy(error));
  source.pipe(counter);
  let stopped = false;
  return {
    stream: counter,
    done: () => {
      if (!stopped) bar.stop();
      stopped = true;
    },
  };
}
