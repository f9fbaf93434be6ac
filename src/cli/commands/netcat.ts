// `cl netcat SPEC PORT [MESSAGE]`: sends bytes to a port that a program in a running bundle
// listens on, and prints exactly what it sends back, until it closes the connection.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { UserInputError } from '../../common/user-input-error.js';
import { liveRoutes, NETCAT_MAX_BYTES } from '../../protocol/index.js';
import { resolveTargetText } from '../resolve.js';
import type { CliContext } from '../session.js';

export const NETCAT_EXAMPLES = `
Examples:
  cl netcat ^1 8000 $'GET / HTTP/1.0\\r\\n\\r\\n'   talk to a server the newest run started
  cl netcat server 5000 -f query.json            send a file's contents
  echo ping | cl netcat server 5000 -f -         send standard input

The program must listen on 0.0.0.0 (not only 127.0.0.1) and the run must have a network.
The message is sent, the sending side closed, and the answer printed until the port closes it
(or stays silent for a minute). For HTTP, the REST API also proxies whole requests:
/rest/bundles/UUID/netcurl/PORT/PATH.`;

export function registerNetcat(program: Command, ctx: CliContext): void {
  program
    .command('netcat')
    .description('Send a message to a port of a running bundle and print the answer.')
    .argument('<spec>', 'a running bundle')
    .argument('<port>', 'the port a program in the bundle listens on')
    .argument('[message]', 'the text to send (or use -f)')
    .option('-f, --file <file>', "send this file's contents instead ('-' for standard input)")
    .option('-w, --worksheet-spec <worksheet>', 'resolve the spec on this worksheet')
    .addHelpText('after', NETCAT_EXAMPLES)
    .action(async (spec: string, portText: string, message: string | undefined, options: { file?: string; worksheetSpec?: string }) => {
      const port = parsePort(portText);
      const bytes = await messageBytes(message, options.file, ctx.io.stdin);
      const session = await ctx.session();
      const target = await resolveTargetText(session, spec, options.worksheetSpec);
      if (target.subpath !== '') throw new UserInputError(`Name a bundle, not a path inside one: ${spec}.`);
      // No timeout: the answer streams for as long as the port keeps talking.
      const response = await session.api.send(liveRoutes.netcat(target.uuid, port), { method: 'PUT', bytes: new Uint8Array(bytes), timeoutMs: 0 });
      if (!response.body) return;
      for await (const chunk of response.body) {
        if (!ctx.io.stdout.write(chunk)) await once(ctx.io.stdout, 'drain');
      }
    });
}

export function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new UserInputError(`Port '${text}' is not a number from 1 to 65535.`);
  return port;
}

async function messageBytes(message: string | undefined, file: string | undefined, stdin: Readable): Promise<Buffer> {
  if (message !== undefined && file !== undefined) throw new UserInputError('Give the message as an argument or with -f, not both.');
  if (message === undefined && file === undefined) throw new UserInputError("Give a message to send, or -f FILE ('-' for standard input).");
  let bytes: Buffer;
  if (message !== undefined) bytes = Buffer.from(message);
  else if (file === '-') bytes = await readAll(stdin);
  else {
    bytes = await readFile(file as string).catch((error: NodeJS.ErrnoException) => {
      throw new UserInputError(`Cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}.`);
    });
  }
  if (bytes.length > NETCAT_MAX_BYTES) throw new UserInputError(`The message is ${bytes.length} bytes; netcat sends at most ${NETCAT_MAX_BYTES}.`);
  return bytes;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}
