// The framing of a followed run's output: stdout and stderr interleaved on one byte stream, each
// chunk prefixed by 8 bytes (byte 0: stream, bytes 4-7: payload length, big-endian), as Docker
// does. Stream 0 is a keep-alive with no payload. Pure: encoding and an incremental decoder.

export type OutputStream = 'stdout' | 'stderr';
export const OUTPUT_FRAMES_CONTENT_TYPE = 'application/vnd.codalab.output-frames';

const STREAM_IDS: Record<OutputStream, number> = { stdout: 1, stderr: 2 };
const HEADER_BYTES = 8;

export function encodeFrame(stream: OutputStream | 'keepalive', payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = stream === 'keepalive' ? 0 : STREAM_IDS[stream];
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

export interface OutputFrame {
  stream: OutputStream;
  data: Buffer;
}

/** Feeds chunks of a framed stream in; returns the whole frames they complete (keep-alives dropped). */
export class FrameDecoder {
  private pending = Buffer.alloc(0);

  push(chunk: Uint8Array): OutputFrame[] {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const frames: OutputFrame[] = [];
    while (this.pending.length >= HEADER_BYTES) {
      const length = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER_BYTES + length) break;
      const id = this.pending[0];
      const data = this.pending.subarray(HEADER_BYTES, HEADER_BYTES + length);
      this.pending = this.pending.subarray(HEADER_BYTES + length);
      if (id === 1) frames.push({ stream: 'stdout', data });
      else if (id === 2) frames.push({ stream: 'stderr', data });
      else if (id !== 0) throw new Error(`Malformed output stream: unknown frame type ${String(id)}.`);
    }
    return frames;
  }

  /** True when no partial frame is left over (the stream ended cleanly). */
  get isClean(): boolean {
    return this.pending.length === 0;
  }
}
