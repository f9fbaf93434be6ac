// Following a running bundle's stdout and stderr as the server pushes them (GET .../follow: output
// frames, 8-byte header then payload, as src/common/output-frames.ts defines them). One streamed
// request at a time, reopened from the byte offsets reached when it ends, until aborted.
import { liveRoutes } from '../../src/protocol/index.js';
import { authorizedFetch } from './api.js';

export type OutputStream = 'stdout' | 'stderr';
const HEADER_BYTES = 8;
const REOPEN_MS = 1000;

/** Incremental decoder of output frames (the browser's twin of FrameDecoder, without Buffer). */
export class BrowserFrameDecoder {
  private pending = new Uint8Array(0);

  push(chunk: Uint8Array): { stream: OutputStream; data: Uint8Array }[] {
    const joined = new Uint8Array(this.pending.length + chunk.length);
    joined.set(this.pending);
    joined.set(chunk, this.pending.length);
    const frames: { stream: OutputStream; data: Uint8Array }[] = [];
    let at = 0;
    while (joined.length - at >= HEADER_BYTES) {
      const length = new DataView(joined.buffer, at + 4, 4).getUint32(0);
      if (joined.length - at < HEADER_BYTES + length) break;
      const id = joined[at];
      const data = joined.slice(at + HEADER_BYTES, at + HEADER_BYTES + length);
      if (id === 1) frames.push({ stream: 'stdout', data });
      else if (id === 2) frames.push({ stream: 'stderr', data });
      else if (id !== 0) throw new Error(`Malformed output stream: unknown frame type ${String(id)}.`);
      at += HEADER_BYTES + length;
    }
    this.pending = joined.slice(at);
    return frames;
  }
}

/** Calls `onText` with each piece of output as it arrives, until `signal` aborts. */
export async function followOutput(uuid: string, signal: AbortSignal, onText: (stream: OutputStream, text: string) => void): Promise<void> {
  const offsets = { stdout: 0, stderr: 0 };
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  while (!signal.aborted) {
    try {
      const response = await authorizedFetch(liveRoutes.follow(uuid, offsets), { signal });
      const reader = response.body?.getReader();
      const frames = new BrowserFrameDecoder();
      for (;;) {
        if (!reader) break;
        const { done, value } = await reader.read();
        if (done) break;
        for (const frame of frames.push(value)) {
          offsets[frame.stream] += frame.data.byteLength;
          onText(frame.stream, decoders[frame.stream].decode(frame.data, { stream: true }));
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      // A stream cut (the worker went away, a refused read) is opened again from the offsets.
      if (!(error instanceof Error)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, REOPEN_MS));
  }
}
