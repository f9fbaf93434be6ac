// Reading a started container's exit report (exit-report.ts) from its stdout through the engine's
// attach stream, and deciding whether a report may stand for the engine's own answer.
import type { Socket } from 'node:net';
import type Docker from 'dockerode';
import type { ContainerExit } from './container-runtime.js';
import { parseExitReport, StdoutTail, type ExitReport } from './exit-report.js';

/** The engine's answer to an attach: an HTTP response, on its own socket. */
type AttachStream = NodeJS.ReadableStream & { socket?: Socket; destroy?(): void };

export interface ExitReading {
  report: Promise<ExitReport | null>;
  stop(): void;
}

/**
 * Follows the container's stdout (its user output goes to files) and resolves, once it closes,
 * with the exit report on its last line; null when there is none (an older command, a lost
 * engine), when stopped first, or when the attach failed, so the engine alone tells the exit.
 */
export async function readExitReport(container: Docker.Container): Promise<ExitReading | null> {
  let stream: AttachStream;
  try {
    stream = (await container.attach({ stream: true, stdout: true, stderr: false, logs: false })) as AttachStream;
  } catch {
    return null;
  }
  // A worker that stops leaves running containers to its next process: this stream must not keep it alive.
  stream.socket?.unref();
  const report = new Promise<ExitReport | null>((resolve) => {
    const tail = new StdoutTail();
    stream.on('data', (chunk: Buffer) => tail.push(chunk));
    stream.once('end', () => resolve(parseExitReport(tail.text())));
    stream.once('close', () => resolve(null)); // after 'end' when it ended; without it when cut off
    stream.once('error', () => resolve(null));
  });
  return { report, stop: () => stream.destroy?.() };
}

/** An exit report the engine need not confirm: an exit by the command itself, without OOM kills. */
export function earlyExit(report: ExitReport): ContainerExit | null {
  if (report.exitCode >= 128 || report.oomKills !== 0) return null;
  return { exitCode: report.exitCode, oomKilled: false, ranSeconds: null };
}
