// Reading a bundle's contents from the page: a bounded preview of a file, a whole download (the
// routes need the Authorization header, so downloads go through fetch and a blob URL), and the
// last lines of a run's output.
import { TARGET_TYPE_HEADER, TargetInfo, routes } from '../../src/protocol/index.js';
import { RequestError, authorizedFetch, requestJson } from './api.js';

/** Previews show at most this much of a file. */
export const PREVIEW_MAX_BYTES = 64 * 1024;
/** Live output shows this many of the last lines of stdout and stderr. */
export const OUTPUT_TAIL_LINES = 500;

export function loadInfo(uuid: string, path: string): Promise<TargetInfo> {
  return requestJson(routes.contentsInfo(uuid, path), TargetInfo);
}

export interface Preview {
  text: string;
  /** The file is longer than what `text` shows. */
  cut: boolean;
}

/** The first PREVIEW_MAX_BYTES of a file, read from the stream and the rest left unread. */
export async function loadPreview(uuid: string, path: string): Promise<Preview> {
  const response = await authorizedFetch(routes.contentsBlob(uuid, path));
  const reader = response.body?.getReader();
  if (!reader) return { text: await response.text(), cut: false };
  const chunks: Uint8Array[] = [];
  let total = 0;
  let cut = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
    if (total > PREVIEW_MAX_BYTES) {
      cut = true;
      await reader.cancel();
      break;
    }
  }
  const bytes = new Uint8Array(Math.min(total, PREVIEW_MAX_BYTES));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.byteLength - offset);
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return { text: new TextDecoder('utf-8', { fatal: false }).decode(bytes), cut };
}

/** Saves a file (or a directory, as a .tar) through the browser's download. */
export async function download(uuid: string, path: string, baseName: string): Promise<void> {
  const response = await authorizedFetch(routes.contentsBlob(uuid, path));
  const isDirectory = response.headers.get(TARGET_TYPE_HEADER) === 'directory';
  const url = URL.createObjectURL(await response.blob());
  try {
    const link = document.createElement('a');
    link.href = url;
    link.download = isDirectory ? `${baseName}.tar` : baseName;
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    // The click has handed the blob to the download; give it a moment before letting it go.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}

/** The last lines of stdout or stderr; empty while the run has not written the file yet. */
export async function loadOutputTail(uuid: string, name: 'stdout' | 'stderr'): Promise<string> {
  try {
    const response = await authorizedFetch(`${routes.contentsBlob(uuid, name)}?tail=${OUTPUT_TAIL_LINES}`);
    return await response.text();
  } catch (error) {
    if (error instanceof RequestError && error.status === 404) return '';
    throw error;
  }
}
