// Sends a download as frames on the connection itself (see common/frames.ts) when the client asked
// for it with `Upgrade: codalab-frames`; any other client, or a proxy that drops the header, gets
// an ordinary HTTP answer. The 101 answer carries the headers the ordinary one would.
import type { FastifyReply } from 'fastify';
import type { Readable } from 'node:stream';
import { sendFramed } from '../../common/frames.js';
import { FRAMED_SIZE_HEADER, FRAMES_PROTOCOL } from '../../protocol/index.js';

export function wantsFrames(reply: FastifyReply): boolean {
  const { headers } = reply.request;
  return headers.upgrade === FRAMES_PROTOCOL && /\bupgrade\b/i.test(headers.connection ?? '');
}

/** Takes the connection over from fastify and sends `body` framed; `size`: a file's bytes, if known. */
export function sendFramedReply(reply: FastifyReply, headers: Record<string, string>, body: Readable, size?: number): FastifyReply {
  reply.hijack();
  const socket = reply.request.raw.socket;
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', `Upgrade: ${FRAMES_PROTOCOL}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (size !== undefined) lines.push(`${FRAMED_SIZE_HEADER}: ${size}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  socket.once('close', () => body.destroy());
  void sendFramed(body, socket);
  return reply;
}
