// `cl run --memoize`: before creating a run, ask the server for the caller's newest READY run with
// the same command and dependencies; when there is one, add it to the worksheet and use it.
import { Bundle, bundleOpsRoutes, MemoResponse, routes, WorksheetItems, type CreateBundleRequest } from '../protocol/index.js';
import { fetchBundle } from './bundle-watch.js';
import type { CliIo } from './io.js';
import { writeLine } from './io.js';
import type { Session } from './session.js';

export async function createOrReuseRun(session: Session, worksheet: string, request: CreateBundleRequest, io: CliIo): Promise<Bundle> {
  const memo = await session.api.json(bundleOpsRoutes.memo(), MemoResponse, {
    method: 'POST',
    json: { command: request.command ?? '', dependencies: request.dependencies.map((d) => ({ child_path: d.child_path, parent_uuid: d.parent_uuid })) },
  });
  if (memo.uuid !== null) {
    await session.api.json(bundleOpsRoutes.worksheetItems(worksheet), WorksheetItems, {
      method: 'POST',
      json: { type: 'bundle', bundle_uuid: memo.uuid },
    });
    writeLine(io.stderr, `Reusing ready run ${memo.uuid} (--memoize).`);
    return fetchBundle(session.api, memo.uuid);
  }
  return session.api.json(routes.createBundle(worksheet), Bundle, { method: 'POST', json: request });
}
