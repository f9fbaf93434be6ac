import { describe, expect, it } from 'vitest';
import { parseSearchKeywords } from './search-keywords.js';

const context = { userId: 'u1', readableBy: null, groupUuid: async (spec: string) => `g-${spec}`, worksheetUuid: async (spec: string) => `ws-${spec}` };

describe('parseSearchKeywords', () => {
  it('turns keywords into conditions, sorts, paging and aggregates', async () => {
    const query = await parseSearchKeywords(['mnist', 'type=run', 'state=ready,failed', 'name=a.*b', '.mine', 'size=.sort-', '.limit=5', '.offset=2'], context);
    expect(query.conditions).toEqual([
      { kind: 'text', text: 'mnist' },
      { kind: 'match', field: { kind: 'column', column: 'bundle_type' }, values: ['run'] },
      { kind: 'states', states: ['ready', 'failed'] },
      { kind: 'match', field: { kind: 'column', column: 'name' }, values: ['a%b'] },
      { kind: 'match', field: { kind: 'column', column: 'owner_id' }, values: ['u1'] },
    ]);
    expect(query.sort).toEqual([{ field: { kind: 'metadata', key: 'data_size' }, descending: true, numeric: true }]);
    expect(query).toMatchObject({ limit: 5, offset: 2, aggregate: null });
    expect(await parseSearchKeywords(['.count'], context)).toMatchObject({ aggregate: { kind: 'count' }, limit: null });
    expect((await parseSearchKeywords(['worksheet=exp'], context)).conditions).toEqual([{ kind: 'host_worksheet', worksheet_uuid: 'ws-exp' }]);
  });

  it('limits every search to what the caller may read, and turns group keywords into conditions', async () => {
    const asUser = { ...context, readableBy: 'u1' };
    expect((await parseSearchKeywords(['group=lab', '.shared', '.count'], asUser)).conditions).toEqual([
      { kind: 'readable_by', user_id: 'u1' },
      { kind: 'group_readable', group_uuid: 'g-lab' },
      { kind: 'shared_with', user_id: 'u1' },
    ]);
  });

  it('refuses keywords that do not parse', async () => {
    await expect(parseSearchKeywords(['.nope'], context)).rejects.toThrow(/Unknown search keyword/);
    await expect(parseSearchKeywords(['.limit=x'], context)).rejects.toThrow(/whole number/);
    await expect(parseSearchKeywords(['state=zzz'], context)).rejects.toThrow(/not a bundle state/);
    await expect(parseSearchKeywords(['name='], context)).rejects.toThrow(/empty/);
    await expect(parseSearchKeywords(['dependency=abc'], context)).rejects.toThrow(/uuid/);
  });
});
