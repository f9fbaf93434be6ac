// Contents sent as frames on the connection itself (see common/frames.ts), for a client that asked
// with `Upgrade: codalab-frames` (upgrades.ts hands such requests to the routes). A download's 101
// answer carries the headers an ordinary answer would, then the body's frames. An upload's 101
// answer is followed by the client's frames, then the server's answer to it, framed too: the JSON
// `{ status, body }` of what an ordinary answer would have been.
import type { FastifyReply } from 'fastify';
import { Readable, type Duplex } from 'node:stream';
import { decodeFrames, sendFramed } from '../../common/frames.js';
import { ApiError, FRAMED_SIZE_HEADER, FRAMES_PROTOCOL } from '../../protocol/index.js';
import { errorStatus, toErrorBody } from './error-body.js';
import { framesConnection, type FramesConnection } from './upgrades.js';

export function wantsFrames(reply: FastifyReply): boolean {
  return framesConnection(reply.request.raw) !== undefined;
}

/** Takes the connection over from fastify and sends `body` framed; `size`: a file's bytes, if known. */
export function sendFramedReply(reply: FastifyReply, headers: Record<string, string>, body: Readable, size?: number): FastifyReply {
  const { socket } = switchToFrames(reply, size === undefined ? headers : { ...headers, [FRAMED_SIZE_HEADER]: String(size) });
  socket.once('close', () => body.destroy());
  void sendFramed(body, socket);
  return reply;
}

/**
 * Takes the connection over, gives `store` the client's framed body, and sends what it returns (or
 * the error it throws) as the framed answer. The answer may come before the whole body did (a
 * refusal part-way): the client stops sending when it reads it.
 */
export function receiveFramedUpload(reply: FastifyReply, store: (body: Readable) => Promise<unknown>): FastifyReply {
  const { socket, head } = switchToFrames(reply, {});
  const body = decodeFrames({ sender: 'client' });
  const stopReading = (): void => void socket.unpipe(body);
  body.once('end', stopReading);
  // The client's side ending (the connection may stay half open) before the end frame is a cut.
  const cut = (): void => {
    if (!body.readableEnded && !body.destroyed) body.destroy(new ApiError('bad_request', 'The connection closed before the whole upload arrived.'));
  };
  socket.once('end', cut);
  socket.once('close', cut);
  if (head.length > 0) body.write(head);
  socket.pipe(body, { end: false });
  void store(body).then(
    (answer) => answerFramed(socket, 200, answer),
    (error: unknown) => {
      // The rest of the body is not wanted: read it away, so the client's end is seen and the
      // connection closes once the answer is out.
      stopReading();
      socket.resume();
      const errorBody = toErrorBody(error);
      answerFramed(socket, errorStatus(error, errorBody), errorBody);
    },
  );
  return reply;
}

function answerFramed(socket: Duplex, status: number, body: unknown): void {
  if (socket.destroyed) return;
  void sendFramed(Readable.from([Buffer.from(JSON.stringify({ status, body }))]), socket);
}

function switchToFrames(reply: FastifyReply, headers: Record<string, string>): FramesConnection {
  const connection = framesConnection(reply.request.raw);
  if (connection === undefined) throw new Error('switchToFrames: the request did not ask for frames');
  reply.hijack();
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', `Upgrade: ${FRAMES_PROTOCOL}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  connection.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  return connection;
}
