// Who may do what with bundles and worksheets (CodaLab's model): the owner and root have `all`;
// anyone else has the highest level granted to the public group or to a group they belong to.
// `read` shows metadata and contents and allows use as a dependency; `all` also allows changing,
// deleting, killing, writing into and sharing. Every service asks here, never decides itself.
import { ApiError, type Permission, type User } from '../../protocol/index.js';
import type { Level, ObjectKind } from '../store/access-store.js';
import type { Store } from '../store/store.js';

export type Caller = Pick<User, 'id' | 'is_root'>;

interface Owned {
  uuid: string;
  owner_id: string;
}

const NAMES: readonly Permission[] = ['none', 'read', 'all'];

export function levelName(level: Level): Permission {
  return NAMES[level] as Permission;
}

export function levelOf(permission: Permission): Level {
  return NAMES.indexOf(permission) as Level;
}

export class AccessControl {
  constructor(private readonly store: Store) {}

  /** For store lookups that must only see what the caller may read: null (everything) for root. */
  static readableBy(caller: Caller): string | null {
    return caller.is_root ? null : caller.id;
  }

  /** The caller's permission on each object, by uuid. */
  async levels(kind: ObjectKind, caller: Caller, rows: readonly Owned[]): Promise<Map<string, Permission>> {
    const out = new Map<string, Permission>();
    const others = rows.filter((r) => !caller.is_root && r.owner_id !== caller.id);
    const granted = await this.store.grantedLevels(kind, caller.id, [...new Set(others.map((r) => r.uuid))]);
    for (const row of rows) {
      const own = caller.is_root || row.owner_id === caller.id;
      out.set(row.uuid, own ? 'all' : levelName(granted.get(row.uuid) ?? 0));
    }
    return out;
  }

  async level(kind: ObjectKind, caller: Caller, row: Owned): Promise<Permission> {
    return (await this.levels(kind, caller, [row])).get(row.uuid) ?? 'none';
  }

  /** The uuids among `rows` the caller may read. */
  async readable(kind: ObjectKind, caller: Caller, rows: readonly Owned[]): Promise<Set<string>> {
    const levels = await this.levels(kind, caller, rows);
    return new Set(rows.filter((r) => levels.get(r.uuid) !== 'none').map((r) => r.uuid));
  }

  /**
   * Refuses unless the caller holds `needed` on the bundle; `action` completes "You may not ...".
   * A caller who may not even read it learns nothing but that it is private.
   */
  async requireBundle(caller: Caller, row: Owned, needed: Exclude<Permission, 'none'>, action: string): Promise<void> {
    const level = await this.level('bundle', caller, row);
    if (level === 'none') {
      throw new ApiError('forbidden', `Bundle ${row.uuid} is private: you have no permission on it; ask its owner to share it (cl perm).`);
    }
    if (needed === 'all' && level !== 'all') {
      throw new ApiError('forbidden', `You may not ${action} bundle ${row.uuid}: that needs 'all' permission, and you have '${level}'.`);
    }
  }

  /** As requireBundle; `shownAs` is how the caller named the worksheet (its name or uuid). */
  async requireWorksheet(caller: Caller, row: Owned, needed: Exclude<Permission, 'none'>, action: string, shownAs: string = row.uuid): Promise<void> {
    const level = await this.level('worksheet', caller, row);
    if (level === 'none') {
      throw new ApiError('forbidden', `Worksheet ${shownAs} is private: you have no permission on it; ask its owner to share it (cl wperm).`);
    }
    if (needed === 'all' && level !== 'all') {
      throw new ApiError('forbidden', `You may not ${action} worksheet ${shownAs}: that needs 'all' permission, and you have '${level}'.`);
    }
  }
}
