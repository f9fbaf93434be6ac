// Worksheet management beyond the home worksheet: create, search, delete, and items (bundles and
// text) added, listed and detached. Reading needs `read` on the worksheet, changing it `all`.
import {
  ApiError,
  WORKSHEET_NAME_PATTERN,
  isPrivateBundle,
  homeWorksheetName,
  type AddItemRequest,
  type User,
  type Worksheet,
  type WorksheetItem,
  type WorksheetItems,
  type WorksheetList,
} from '../../protocol/index.js';
import type { Clock } from '../../common/clock.js';
import type { IdSource } from '../ids.js';
import type { Store, WorksheetRow } from '../store/store.js';
import { AccessControl } from '../permissions/access-control.js';
import type { WorksheetService } from './worksheet-service.js';

const DEFAULT_LIMIT = 100;
const HOME_PREFIX = homeWorksheetName('');

export class WorksheetOpsService {
  constructor(
    private readonly store: Store,
    private readonly worksheets: WorksheetService,
    private readonly clock: Clock,
    private readonly ids: IdSource,
    private readonly access: AccessControl,
  ) {}

  async create(user: User, name: string, title: string | undefined): Promise<Worksheet> {
    if (!WORKSHEET_NAME_PATTERN.test(name)) {
      throw new ApiError('bad_request', `Invalid worksheet name '${name}': start with a letter or '_', then letters, digits, '_', '.' or '-'.`);
    }
    // `home-USER` is USER's home worksheet, made on first use: taken by another, it would be theirs.
    if (!user.is_root && name.startsWith(HOME_PREFIX) && name !== homeWorksheetName(user.user_name)) {
      throw new ApiError('forbidden', `Worksheet names starting with '${HOME_PREFIX}' are the home worksheets of their users; pick another name.`);
    }
    if (await this.store.getWorksheetByName(name)) throw new ApiError('conflict', `A worksheet named '${name}' already exists.`);
    const row: WorksheetRow = { uuid: this.ids.uuid(), name, title: title ?? null, owner_id: user.id, created: this.clock.now() };
    try {
      await this.store.insertWorksheet(row);
    } catch (error) {
      // Two creators raced for the name; the UNIQUE constraint decided.
      if (await this.store.getWorksheetByName(name)) throw new ApiError('conflict', `A worksheet named '${name}' already exists.`, { cause: error });
      throw error;
    }
    return this.worksheets.resolve(user, row.uuid);
  }

  /** Keywords: bare words (name contains), `name=`, `owner=USER`, `.mine`, `.limit=N`, `.offset=N`. */
  async search(user: User, keywords: readonly string[]): Promise<WorksheetList> {
    let nameLike: string | null = null;
    let ownerId: string | null = null;
    let limit = DEFAULT_LIMIT;
    let offset = 0;
    for (const keyword of keywords) {
      const [key, value] = keyword.includes('=') ? [keyword.slice(0, keyword.indexOf('=')), keyword.slice(keyword.indexOf('=') + 1)] : [null, keyword];
      if (key === null && value === '.mine') ownerId = user.id;
      else if (key === null && !value.startsWith('.')) nameLike = `%${escapeLike(value)}%`;
      else if (key === 'name') nameLike = escapeLike(value).replace(/\\\.\*|\.\*/g, '%');
      else if (key === 'owner') {
        const owner = await this.store.getUserByName(value);
        if (!owner) throw new ApiError('not_found', `No user named '${value}'.`);
        ownerId = owner.id;
      } else if ((key === '.limit' || key === '.offset') && /^\d+$/.test(value)) {
        if (key === '.limit') limit = Number(value);
        else offset = Number(value);
      } else throw new ApiError('bad_request', `Invalid worksheet search keyword '${keyword}'.`);
    }
    const rows = await this.store.listWorksheets(nameLike, ownerId, limit + 1, offset, AccessControl.readableBy(user));
    const worksheets = await Promise.all(rows.slice(0, limit).map((r) => this.worksheets.resolve(user, r.uuid)));
    return { worksheets, more: rows.length > limit };
  }

  async delete(user: User, uuid: string, force: boolean): Promise<Worksheet> {
    const row = await this.worksheets.getRowFor(user, uuid, 'all', 'delete');
    const items = await this.store.listWorksheetItems(uuid);
    if (items.length > 0 && !force) {
      throw new ApiError('conflict', `Worksheet '${row.name}' is not empty (${items.length} items); use --force to delete it anyway (its bundles are kept).`);
    }
    const shown = await this.worksheets.resolve(user, uuid);
    await this.store.deleteWorksheet(uuid);
    return shown;
  }

  async items(user: User, uuid: string): Promise<WorksheetItems> {
    const row = await this.worksheets.getRowFor(user, uuid, 'read', 'read');
    const items = await this.store.listWorksheetItems(uuid);
    const bundles = await this.worksheets.visibleBundles(user, items.filter((i) => i.item_type === 'bundle').map((i) => i.bundle_uuid));
    const out: WorksheetItem[] = [];
    for (const item of items) {
      if (item.item_type === 'markup') out.push({ type: 'markup', value: item.value ?? '' });
      else {
        const bundle = bundles.get(item.bundle_uuid);
        if (bundle && isPrivateBundle(bundle)) out.push({ type: 'private_bundle', uuid: bundle.uuid });
        else if (bundle) out.push({ type: 'bundle', bundle });
      }
    }
    return { worksheet: await this.worksheets.resolve(user, row.uuid), items: out };
  }

  async add(user: User, uuid: string, item: AddItemRequest): Promise<WorksheetItems> {
    await this.worksheets.getRowFor(user, uuid, 'all', 'add to');
    if (item.type === 'bundle') {
      const [bundle] = await this.store.getBundles([item.bundle_uuid]);
      if (!bundle) throw new ApiError('not_found', `No bundle with uuid ${item.bundle_uuid}.`);
      await this.access.requireBundle(user, bundle, 'read', 'add');
      await this.store.addWorksheetItem(uuid, item.bundle_uuid);
    } else {
      await this.store.addWorksheetMarkup(uuid, item.value);
    }
    return this.items(user, uuid);
  }

  async detach(user: User, uuid: string, bundleUuid: string, index: number | null): Promise<number> {
    const row = await this.worksheets.getRowFor(user, uuid, 'all', 'detach bundles from');
    const removed = await this.store.removeWorksheetBundleItems(uuid, bundleUuid, index);
    if (removed === 0) {
      throw new ApiError('not_found', `Bundle ${bundleUuid} is not on worksheet '${row.name}'${index !== null ? ` (occurrence ${index})` : ''}.`);
    }
    return removed;
  }
}

function escapeLike(text: string): string {
  return text.replace(/[\\_]/g, '\\$&');
}
