// The first or last N lines of a file, read without loading the whole file: forwards for the
// head, backwards in blocks for the tail. Given a path, the file is opened and closed here; given
// an open handle (a file that must not be reopened by path), the caller keeps and closes it.
import { open, type FileHandle } from 'node:fs/promises';

const BLOCK = 64 * 1024;
/**
 * Most bytes either reads, whatever the file: a file without newlines (or one a running program
 * keeps growing) must not fill the reader's memory. The head reads no further than the file's
 * size when it was opened.
 */
export const MAX_LINES_BYTES = 16 * 1024 * 1024;

export async function readHeadLines(file: string | FileHandle, lines: number): Promise<Buffer> {
  return withHandle(file, async (handle) => {
    const { size } = await handle.stat();
    const limit = Math.min(size, MAX_LINES_BYTES);
    const chunks: Buffer[] = [];
    let seen = 0;
    let position = 0;
    while (position < limit) {
      const buffer = Buffer.alloc(Math.min(BLOCK, limit - position));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      let chunk = buffer.subarray(0, bytesRead);
      for (let i = 0; i < chunk.length; i += 1) {
        if (chunk[i] === 0x0a && ++seen === lines) {
          chunk = chunk.subarray(0, i + 1);
          chunks.push(chunk);
          return Buffer.concat(chunks);
        }
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  });
}

export async function readTailLines(file: string | FileHandle, lines: number): Promise<Buffer> {
  return withHandle(file, async (handle) => {
    const { size } = await handle.stat();
    const chunks: Buffer[] = [];
    let end = size;
    let newlines = 0;
    while (end > Math.max(0, size - MAX_LINES_BYTES)) {
      const start = Math.max(0, size - MAX_LINES_BYTES, end - BLOCK);
      const buffer = Buffer.alloc(end - start);
      await handle.read(buffer, 0, buffer.length, start);
      for (let i = buffer.length - 1; i >= 0; i -= 1) {
        // A newline that ends the file does not start a line.
        if (buffer[i] === 0x0a && start + i !== size - 1 && ++newlines === lines) {
          chunks.unshift(buffer.subarray(i + 1));
          return Buffer.concat(chunks);
        }
      }
      chunks.unshift(buffer);
      end = start;
    }
    return Buffer.concat(chunks);
  });
}

async function withHandle<T>(file: string | FileHandle, use: (handle: FileHandle) => Promise<T>): Promise<T> {
  if (typeof file !== 'string') return use(file);
  const handle = await open(file, 'r');
  try {
    return await use(handle);
  } finally {
    await handle.close();
  }
}
