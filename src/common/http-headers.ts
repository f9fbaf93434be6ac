// Header rules shared by the two halves of the HTTP proxy into running bundles (server and worker).

/**
 * Headers that describe one connection rather than the message, which a proxy never passes on
 * (RFC 9110, section 7.6.1).
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Header pairs from Node's flat `rawHeaders` list, without the hop-by-hop ones and any in `drop`. */
export function endToEndHeaders(rawHeaders: readonly string[], drop: ReadonlySet<string> = new Set()): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const key = name.toLowerCase();
    if (!HOP_BY_HOP_HEADERS.has(key) && !drop.has(key)) pairs.push([name, rawHeaders[i + 1] as string]);
  }
  return pairs;
}

/** Groups header pairs by lower-cased name, keeping the order of repeated values. */
export function groupHeaders(pairs: ReadonlyArray<readonly [string, string]>): Record<string, string[]> {
  const grouped: Record<string, string[]> = {};
  for (const [name, value] of pairs) (grouped[name.toLowerCase()] ??= []).push(value);
  return grouped;
}
