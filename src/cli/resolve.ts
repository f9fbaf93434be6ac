// Turns what users type (`^1/stdout`, `ws//data`, `0x7f3`) into bundle uuids and sub-paths.
// Parsing is src/common/bundle-spec.ts; resolving is the server's (POST /rest/bundles/resolve),
// relative to the target's worksheet, else the -w worksheet, else the current one.
import { formatTarget, parseTarget, type Target } from '../common/bundle-spec.js';
import { ResolveResponse, routes, type ResolveRequest } from '../protocol/index.js';
import type { Session } from './session.js';

export interface ResolvedTarget {
  uuid: string;
  subpath: string;
  /** The target as the user wrote it, for messages. */
  text: string;
}

export async function resolveTargetText(session: Session, text: string, worksheetSpec?: string): Promise<ResolvedTarget> {
  return resolveTarget(session, parseTarget(text), worksheetSpec);
}

export async function resolveTarget(session: Session, target: Target, worksheetSpec?: string): Promise<ResolvedTarget> {
  const worksheet = await worksheetFor(session, target.worksheet ?? worksheetSpec);
  const request: ResolveRequest = { worksheet, specs: [target.bundle] };
  const { uuids } = await session.api.json(routes.resolveBundles(), ResolveResponse, { method: 'POST', json: request });
  const uuid = uuids[0];
  if (uuid === undefined) throw new Error(`The server resolved no bundle for '${formatTarget(target)}'.`);
  return { uuid, subpath: target.subpath, text: formatTarget(target) };
}

/** The uuid of the worksheet named by `spec`, or of the current worksheet when spec is absent. */
export async function worksheetFor(session: Session, spec: string | undefined): Promise<string> {
  if (spec === undefined || spec === '') return session.currentWorksheet();
  return (await session.worksheetBySpec(spec)).uuid;
}
