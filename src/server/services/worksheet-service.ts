// Worksheets: each user's home worksheet, lookup by name or uuid, and the ordered bundle list.
import {
  ApiError,
  homeWorksheetName,
  type User,
  type Worksheet,
  type WorksheetContents,
} from '../../protocol/index.js';
import type { Clock } from '../../common/clock.js';
import type { IdSource } from '../ids.js';
import type { Store, WorksheetRow } from '../store/store.js';
import { toApiBundles } from './bundle-view.js';

/** Only the owner of a worksheet (or root) adds to it or changes it; `action` completes "You may not ...". */
export function requireWorksheetOwner(user: User, row: WorksheetRow, action: string): void {
  if (!user.is_root && user.id !== row.owner_id) {
    throw new ApiError('forbidden', `You may not ${action} worksheet '${row.name}': it belongs to another user.`);
  }
}

export class WorksheetService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly ids: IdSource,
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

  async resolve(user: User, spec: string): Promise<Worksheet> {
    if (spec === '' || spec === '/') return this.home(user);
    return this.toApi(await this.findRow(spec));
  }

  async getRow(uuid: string): Promise<WorksheetRow> {
    const row = await this.store.getWorksheetByUuid(uuid);
    if (!row) throw new ApiError('not_found', `No worksheet with uuid ${uuid}.`);
    return row;
  }

  async contents(uuid: string): Promise<WorksheetContents> {
    const row = await this.getRow(uuid);
    const uuids = await this.store.listWorksheetBundleUuids(uuid);
    const byUuid = new Map((await this.store.getBundles(uuids)).map((b) => [b.uuid, b]));
    const rows = uuids.map((u) => byUuid.get(u)).filter((b) => b !== undefined);
    return { worksheet: await this.toApi(row), bundles: await toApiBundles(this.store, rows) };
  }

  private async findRow(spec: string): Promise<WorksheetRow> {
    if (/^0x[0-9a-f]{1,32}$/.test(spec)) {
      const rows = await this.store.findWorksheetsByUuidPrefix(spec, 2);
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
