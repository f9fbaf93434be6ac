import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCAL_INSTANCE, StateStore } from './state-store.js';

const user = { id: '0', user_name: 'codalab', is_root: true };

describe('StateStore', () => {
  it('starts on the local instance with nothing cached', () => {
    const store = new StateStore(join(mkdtempSync(join(tmpdir(), 'cl-state-')), 'home'));
    expect(store.currentInstance()).toBe(LOCAL_INSTANCE);
    expect(store.token(LOCAL_INSTANCE)).toBeUndefined();
    expect(store.worksheet(LOCAL_INSTANCE)).toBeUndefined();
  });

  it('keeps address, token and worksheet per instance in a private file', () => {
    const home = join(mkdtempSync(join(tmpdir(), 'cl-state-')), 'home');
    const store = new StateStore(home);
    store.selectInstance('http://127.0.0.1:2900');
    store.saveToken('http://127.0.0.1:2900', { token: 't1', expires_at: 123, user });
    store.saveWorksheet('http://127.0.0.1:2900', '0xabc');
    store.saveWorksheet(LOCAL_INSTANCE, '0xdef');

    const again = new StateStore(home);
    expect(again.currentInstance()).toBe('http://127.0.0.1:2900');
    expect(again.token('http://127.0.0.1:2900')).toEqual({ token: 't1', expires_at: 123, user });
    expect(again.worksheet('http://127.0.0.1:2900')).toBe('0xabc');
    expect(again.worksheet(LOCAL_INSTANCE)).toBe('0xdef');
    expect(statSync(join(home, 'state.json')).mode & 0o777).toBe(0o600);

    expect(again.forgetToken('http://127.0.0.1:2900')).toBe(true);
    expect(again.forgetToken('http://127.0.0.1:2900')).toBe(false);
    expect(again.worksheet('http://127.0.0.1:2900')).toBe('0xabc');
    again.selectInstance(LOCAL_INSTANCE);
    expect(JSON.parse(readFileSync(join(home, 'state.json'), 'utf8'))).not.toHaveProperty('address');
  });

  it('treats a corrupt state file as empty', () => {
    const home = mkdtempSync(join(tmpdir(), 'cl-state-'));
    writeFileSync(join(home, 'state.json'), '{not json');
    const store = new StateStore(home);
    expect(store.currentInstance()).toBe(LOCAL_INSTANCE);
    store.saveWorksheet(LOCAL_INSTANCE, '0x1');
    expect(store.worksheet(LOCAL_INSTANCE)).toBe('0x1');
  });
});
