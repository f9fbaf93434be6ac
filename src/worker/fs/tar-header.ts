// Encoding one tar entry header: POSIX ustar, preceded by a pax extended header when a name, a
// link target or a size does not fit ustar's fields. Owners are written as 0 (a portable tar,
// as `tar --numeric-owner --owner=0` makes). Pure: facts in, bytes out.

export const TAR_BLOCK = 512;

export interface TarHeader {
  name: string;
  type: 'file' | 'directory' | 'link';
  /** Permission bits; setuid, setgid and sticky are dropped. */
  mode: number;
  size: number;
  /** Epoch milliseconds. */
  mtime: number;
  linkname?: string;
}

const TYPE_FLAGS = { file: '0', directory: '5', link: '2' } as const;
/** 11 octal digits: ustar's size field holds less than 8 GiB. */
const MAX_USTAR_SIZE = 8 ** 11 - 1;

/** Zero bytes that follow `size` bytes of content up to the next block. */
export function tarPadding(size: number): number {
  return (TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK;
}

export function encodeTarHeader(header: TarHeader): Buffer {
  const name = Buffer.from(header.name, 'utf8');
  const linkname = Buffer.from(header.linkname ?? '', 'utf8');
  const pax: Array<[string, string]> = [];
  const split = splitUstarName(name);
  if (split === null) pax.push(['path', header.name]);
  if (linkname.length > 100) pax.push(['linkpath', header.linkname ?? '']);
  if (header.size > MAX_USTAR_SIZE) pax.push(['size', String(header.size)]);
  const block = ustarBlock(header, split ?? { prefix: '', name: name.subarray(0, 100).toString('utf8') }, linkname.subarray(0, 100));
  if (pax.length === 0) return block;
  const body = Buffer.from(pax.map(([key, value]) => paxRecord(key, value)).join(''), 'utf8');
  const paxHeader = ustarBlock(
    { name: 'PaxHeader', type: 'file', mode: 0o644, size: body.length, mtime: header.mtime },
    { prefix: '', name: 'PaxHeader' },
    Buffer.alloc(0),
    'x',
  );
  return Buffer.concat([paxHeader, body, Buffer.alloc(tarPadding(body.length)), block]);
}

/** ustar's name fields: a name of up to 100 bytes, or a prefix of up to 155 and a name split at a `/`. */
function splitUstarName(name: Buffer): { prefix: string; name: string } | null {
  if (name.length <= 100) return { prefix: '', name: name.toString('utf8') };
  for (let i = name.length - 1; i > 0; i -= 1) {
    if (name[i] !== 0x2f) continue;
    if (i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) {
      return { prefix: name.subarray(0, i).toString('utf8'), name: name.subarray(i + 1).toString('utf8') };
    }
  }
  return null;
}

function ustarBlock(header: TarHeader, names: { prefix: string; name: string }, linkname: Buffer, typeFlag?: string): Buffer {
  const block = Buffer.alloc(TAR_BLOCK);
  block.write(names.name, 0, 100, 'utf8');
  writeOctal(block, 100, 8, header.mode & 0o777);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, Math.min(header.size, MAX_USTAR_SIZE));
  writeOctal(block, 136, 12, Math.max(0, Math.floor(header.mtime / 1000)));
  block.write(typeFlag ?? TYPE_FLAGS[header.type], 156, 1, 'ascii');
  linkname.copy(block, 157);
  block.write('ustar\u000000', 257, 8, 'ascii');
  block.write(names.prefix, 345, 155, 'utf8');
  // The checksum is computed with its own field as spaces.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  writeOctal(block, 148, 7, sum);
  return block;
}

function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(value.toString(8).padStart(width - 1, '0'), offset, width - 1, 'ascii');
  block[offset + width - 1] = 0;
}

/** `LEN key=value\n`, where LEN counts the whole record, its own digits included. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  const restBytes = Buffer.byteLength(rest, 'utf8');
  let length = restBytes + 1;
  while (String(length).length + restBytes !== length) length = String(length).length + restBytes;
  return `${length}${rest}`;
}
