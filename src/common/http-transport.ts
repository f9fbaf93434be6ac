// node:http or node:https for an address. node:https (with the TLS stack under it, ~15 ms to load)
// is required on first use only: a `cl` command talking to a local instance over http never pays
// for it. A plain require, not import(): the client bundle runs in a vm.Script, which has no
// loader for import() of its own.
import http from 'node:http';
import { createRequire } from 'node:module';

const requireBuiltin = createRequire(import.meta.url);

export function transportFor(target: URL): typeof http {
  // Same request/response API for what these callers use; the TLS options are https's own.
  return target.protocol === 'https:' ? (requireBuiltin('node:https') as typeof http) : http;
}
