// Worksheets: each user's home worksheet, lookup by name or uuid, and the ordered bundle list.
// A worksheet is private to its owner until shared (cl wperm); a bundle on it that the caller may
// not read is listed as a placeholder with its uuid alone.
import {
  ApiError,
  homeWorksheetName,
  type User,
  type Worksheet,
  type Bundle,
  type PrivateBundle,
  type WorksheetContents,
} from '../../protocol/index.js';
import type { Clock } from '../../common/clock.js';
import type { IdSource } from '../ids.js';
import { AccessControl } from '../permissions/access-control.js';
import type { BundleRow, Store, WorksheetRow } from '../store/store.js';
import { toApiBundles } from './bundle-view.js';

export class WorksheetService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly ids: IdSource,
    private readonly access: AccessControl,
  ) {}

  async home(user: User): Promise<Worksheet> {
    const name = homeWorksheetName(user.user_name);
    let row = await this.store.getWorksheetByName(name);
    if (!row) {
      row = { uuid: this.ids.uuid(), name, title: null, owner_id: user.id, created: this.clock.now() };
      await this.store.insertWorksheet(row);
    }
    return this.toApi(row);
  }

  /** A worksheet the caller may read, by name, uuid or uuid prefix ('' and '/': their home). */
  async resolve(user: User, spec: string): Promise<Worksheet> {
    if (spec === '' || spec === '/') return this.home(user);
    const row = await this.findRow(user, spec);
    await this.access.requireWorksheet(user, row, 'read', 'read', spec === row.uuid ? row.uuid : `'${spec}'`);
    return this.toApi(row);
  }

  /** The row of a worksheet the caller holds `needed` on; `action` completes "You may not ...". */
  async getRowFor(user: User, uuid: string, needed: 'read' | 'all', action: string): Promise<WorksheetRow> {
    const row = await this.getRow(uuid);
    await this.access.requireWorksheet(user, row, needed, action, `'${row.name}'`);
    return row;
  }

  async getRow(uuid: string): Promise<WorksheetRow> {
    const row = await this.store.getWorksheetByUuid(uuid);
    if (!row) throw new ApiError('not_found', `No worksheet with uuid ${uuid}.`);
    return row;
  }

  async contents(user: User, uuid: string): Promise<WorksheetContents> {
    const row = await this.getRowFor(user, uuid, 'read', 'read');
    const uuids = await this.store.listWorksheetBundleUuids(uuid);
    const shown = await this.visibleBundles(user, uuids);
    return { worksheet: await this.toApi(row), bundles: uuids.map((u) => shown.get(u)).filter((b) => b !== undefined) };
  }

  /** Each bundle by uuid, as the API shows it, or as a placeholder when the caller may not read it. */
  async visibleBundles(user: User, uuids: readonly string[]): Promise<Map<string, Bundle | PrivateBundle>> {
    const rows = await this.store.getBundles([...new Set(uuids)]);
    const readable = await this.access.readable('bundle', user, rows);
    const out = new Map<string, Bundle | PrivateBundle>();
    for (const bundle of await toApiBundles(this.store, rows.filter((r: BundleRow) => readable.has(r.uuid)), user, this.access)) out.set(bundle.uuid, bundle);
    for (const row of rows) if (!readable.has(row.uuid)) out.set(row.uuid, { uuid: row.uuid, private: true });
    return out;
  }

  private async findRow(user: User, spec: string): Promise<WorksheetRow> {
    if (/^0x[0-9a-f]{1,32}$/.test(spec)) {
      // A prefix matches only worksheets the caller may read; a whole uuid names its worksheet.
      const readableBy = spec.length === 34 ? null : AccessControl.readableBy(user);
      const rows = await this.store.findWorksheetsByUuidPrefix(spec, 2, readableBy);
      if (rows.length > 1) throw new ApiError('ambiguous', `Worksheet uuid prefix ${spec} is ambiguous.`);
      if (rows[0]) return rows[0];
    }
    const row = await this.store.getWorksheetByName(spec);
    if (!row) throw new ApiError('not_found', `No worksheet named '${spec}'.`);
    return row;
  }

  private async toApi(row: WorksheetRow): Promise<Worksheet> {
    const [owner] = await this.store.getUsersByIds([row.owner_id]);
    return {
      uuid: row.uuid,
      name: row.name,
      title: row.title,
      owner_id: row.owner_id,
      owner_name: owner?.user_name ?? row.owner_id,
    };
  }
}
