// Turns stored rows into the API's Bundle objects: owner names and dependency names and states.
// A parent the caller may not read is shown by its uuid alone, never its name or state.
import type { Bundle } from '../../protocol/index.js';
import type { AccessControl, Caller } from '../permissions/access-control.js';
import type { BundleRow, Store } from '../store/store.js';

export async function toApiBundles(store: Store, rows: readonly BundleRow[], caller: Caller, access: AccessControl): Promise<Bundle[]> {
  const deps = await store.getDependencies(rows.map((r) => r.uuid));
  const parents = await store.getBundles([...new Set(deps.map((d) => d.parent_uuid))]);
  const readableParents = await access.readable('bundle', caller, parents);
  const parentByUuid = new Map(parents.filter((p) => readableParents.has(p.uuid)).map((p) => [p.uuid, p]));
  const owners = await store.getUsersByIds([...new Set(rows.map((r) => r.owner_id))]);
  const ownerName = new Map(owners.map((u) => [u.id, u.user_name]));
  return rows.map((row) => ({
    uuid: row.uuid,
    bundle_type: row.bundle_type,
    command: row.command,
    state: row.state,
    owner_id: row.owner_id,
    owner_name: ownerName.get(row.owner_id) ?? row.owner_id,
    is_dir: row.is_dir,
    created: Math.floor(row.created / 1000),
    metadata: row.metadata,
    dependencies: deps
      .filter((d) => d.child_uuid === row.uuid)
      .map((d) => ({
        child_path: d.child_path,
        parent_uuid: d.parent_uuid,
        parent_path: d.parent_path,
        parent_name: parentByUuid.get(d.parent_uuid)?.name ?? null,
        parent_state: parentByUuid.get(d.parent_uuid)?.state ?? null,
      })),
  }));
}
