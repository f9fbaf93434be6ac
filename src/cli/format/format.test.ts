import { describe, expect, it } from 'vitest';
import type { Bundle, TargetInfo, WorkerInfo, WorksheetContents, WorksheetItems } from '../../protocol/index.js';
import { formatBundleInfo, formatFieldValues, parseFieldList } from './bundle-info.js';
import { formatWorksheetPrint } from '../commands/worksheets.js';
import { formatDirectoryListing, formatWorkersTable, formatWorksheetListing } from './listings.js';
import { formatTable } from './table.js';
import { formatValue } from './values.js';

const uuid = (c: string): string => `0x${c.repeat(32)}`;

function runBundle(overrides: Partial<Bundle> = {}): Bundle {
  return {
    uuid: uuid('a'),
    bundle_type: 'run',
    command: 'python train.py',
    state: 'failed',
    owner_id: '0',
    owner_name: 'codalab',
    is_dir: true,
    created: 1_700_000_000,
    metadata: {
      name: 'run-python',
      description: '',
      tags: ['x', 'y'],
      request_memory: 2 * 1024 ** 3,
      request_time: 5400,
      exitcode: 1,
      failure_message: 'Exit code 1',
      zeta: 'custom',
    },
    dependencies: [
      { child_path: 'data', parent_uuid: uuid('b'), parent_path: 'x/y', parent_name: 'corpus', parent_state: 'ready' },
    ],
    ...overrides,
  };
}

describe('cl info', () => {
  it('prints key : value lines with formatted values, then dependencies', () => {
    const lines = formatBundleInfo(runBundle(), { raw: false });
    expect(lines[0]).toMatch(/^bundle_type\s+: run$/);
    expect(lines.find((l) => l.startsWith('uuid'))).toBe(`${'uuid'.padEnd(15)} : ${uuid('a')}`);
    expect(lines.find((l) => l.startsWith('created'))).toMatch(/: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(lines.find((l) => l.startsWith('request_memory'))).toMatch(/: 2g$/);
    expect(lines.find((l) => l.startsWith('request_time'))).toMatch(/: 1h30m$/);
    expect(lines.find((l) => l.startsWith('tags'))).toMatch(/: x y$/);
    expect(lines.some((l) => l.startsWith('description'))).toBe(false);
    expect(lines.indexOf(lines.find((l) => l.startsWith('zeta')) ?? '')).toBeGreaterThan(
      lines.indexOf(lines.find((l) => l.startsWith('failure_message')) ?? ''),
    );
    expect(lines.slice(-2)).toEqual(['dependencies:', `  data: corpus(${uuid('b')})/x/y`]);
  });

  it('shows stored values and empty ones with --raw', () => {
    const lines = formatBundleInfo(runBundle(), { raw: true });
    expect(lines.find((l) => l.startsWith('request_memory'))).toMatch(/: 2147483648$/);
    expect(lines.find((l) => l.startsWith('created'))).toMatch(/: 1700000000$/);
    expect(lines.some((l) => l.startsWith('description'))).toBe(true);
  });

  it('lists every standard key of the type with --raw, and shows frozen as a date when set', () => {
    const dataset = runBundle({ bundle_type: 'dataset', command: null, metadata: { name: 'd', frozen: 1_700_000_000 } });
    const raw = formatBundleInfo(dataset, { raw: true });
    for (const key of ['license', 'source_url', 'link_url', 'link_format', 'tags', 'failure_message']) {
      expect(raw.some((l) => new RegExp(`^${key}\\s+: $`).test(l)), key).toBe(true);
    }
    expect(raw.some((l) => l.startsWith('request_memory'))).toBe(false);
    expect(raw.find((l) => l.startsWith('frozen'))).toMatch(/: 1700000000$/);
    const plain = formatBundleInfo(dataset, { raw: false });
    expect(plain.some((l) => l.startsWith('license'))).toBe(false);
    expect(plain.find((l) => l.startsWith('frozen'))).toMatch(/: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const runRaw = formatBundleInfo(runBundle(), { raw: true });
    expect(runRaw.some((l) => /^request_queue\s+: $/.test(l))).toBe(true);
    expect(runRaw.some((l) => l.startsWith('license'))).toBe(false);
    expect(runRaw.filter((l) => l.startsWith('exitcode '))).toHaveLength(1);
  });

  it('prints -f fields tab-separated, bundle fields first, else metadata', () => {
    const bundle = runBundle();
    expect(formatFieldValues(bundle, parseFieldList('uuid, state,exitcode,owner,name,missing'))).toBe(
      `${uuid('a')}\tfailed\t1\tcodalab\trun-python\t`,
    );
    expect(formatFieldValues(runBundle({ command: 'a\nb' }), ['command'])).toBe('a b');
  });
});

describe('tables', () => {
  it('aligns columns under a rule', () => {
    expect(formatTable(['a', 'long'], [['xyz', '1'], ['', '22']])).toEqual(['a    long', '---  ----', 'xyz  1', '     22']);
  });

  it('lists a directory sorted, with octal permissions and dir/size', () => {
    const info: TargetInfo = {
      name: '',
      type: 'directory',
      size: 0,
      perm: 0o755,
      contents: [
        { name: 'b.txt', type: 'file', size: 2048, perm: 0o644 },
        { name: 'a', type: 'directory', size: 4096, perm: 0o755 },
        { name: 'l', type: 'link', size: 0, perm: 0o777, link: 'b.txt' },
      ],
    };
    expect(formatDirectoryListing(info)).toEqual([
      'name        perm  size',
      '----------  ----  ----',
      'a           755   dir',
      'b.txt       644   2k',
      'l -> b.txt  777   0',
    ]);
  });

  it('lists a worksheet with ^N references, newest last', () => {
    const contents: WorksheetContents = {
      worksheet: { uuid: uuid('c'), name: 'home-codalab', title: null, owner_id: '0', owner_name: 'codalab' },
      bundles: [
        { ...runBundle(), bundle_type: 'dataset', command: null, state: 'ready', metadata: { name: 'corpus', data_size: 1536 } },
        runBundle(),
      ],
    };
    const lines = formatWorksheetListing(contents);
    expect(lines[0]).toBe(`### Worksheet: home-codalab (${uuid('c')})`);
    expect(lines.find((l) => l.startsWith('^2'))).toMatch(/^\^2\s+0xaaaaaaaa\s+corpus\s+\[uploaded\]\s+1\.5k\s+ready$/);
    expect(lines.find((l) => l.startsWith('^1'))).toMatch(/run-python\s+! python train\.py\s+failed$/);
  });

  it('lists a bundle the caller may not read as <private> with its uuid alone', () => {
    const contents: WorksheetContents = {
      worksheet: { uuid: uuid('c'), name: 'exp', title: null, owner_id: '1', owner_name: 'alice' },
      bundles: [{ uuid: uuid('d'), private: true }, runBundle()],
    };
    const lines = formatWorksheetListing(contents);
    expect(lines.find((l) => l.startsWith('^2'))).toMatch(/^\^2\s+0xdddddddd\s+<private>$/);
    expect(lines.find((l) => l.startsWith('^1'))).toMatch(/run-python/);
  });

  it('prints a worksheet whose bundles include private ones, numbering them with the rest', () => {
    const answer: WorksheetItems = {
      worksheet: { uuid: uuid('c'), name: 'exp', title: null, owner_id: '1', owner_name: 'alice' },
      items: [
        { type: 'markup', value: 'notes' },
        { type: 'private_bundle', uuid: uuid('d') },
        { type: 'bundle', bundle: runBundle() },
        { type: 'private_bundle', uuid: uuid('e') },
      ],
    };
    const lines = formatWorksheetPrint(answer);
    expect(lines).toContain('notes');
    expect(lines.find((l) => l.startsWith('^3'))).toMatch(/^\^3\s+0xdddddddd\s+<private>/);
    expect(lines.find((l) => l.startsWith('^2'))).toMatch(/run-python/);
    expect(lines.find((l) => l.startsWith('^1'))).toMatch(/^\^1\s+0xeeeeeeee\s+<private>/);
  });

  it('shows workers with usage, age and docker status', () => {
    const worker: WorkerInfo = {
      id: 'w1',
      owner_name: 'codalab',
      hostname: 'h',
      tag: 'gpu',
      tag_exclusive: true,
      cpus: 4,
      cpus_in_use: 1,
      gpus: 0,
      gpus_in_use: 0,
      memory_bytes: 8 * 1024 ** 3,
      free_disk_bytes: 100 * 1024 ** 3,
      slots: 2,
      runs: [uuid('d')],
      checkin_time: 1000,
      online: true,
      docker_ok: false,
      docker_message: 'Cannot connect to the Docker daemon',
    };
    const lines = formatWorkersTable([worker], 1003.4);
    expect(lines[0]).toMatch(/^worker_id\s+cpus\s+gpus\s+memory\s+free_disk\s+last_checkin\s+tag\s+runs\s+docker\s+warning$/);
    expect(lines[2]).toMatch(/^w1\s+1\/4\s+0\/0\s+8g\s+100g\s+3s ago\s+gpu \(exclusive\)\s+0xdddddddd\s+Cannot connect/);
  });

  it('flags a worker whose GPUs vanished in the warning column', () => {
    const worker: WorkerInfo = {
      id: 'gpu1', owner_name: 'codalab', hostname: 'h', tag: null, tag_exclusive: false, cpus: 4, cpus_in_use: 0,
      gpus: 0, gpus_in_use: 0, memory_bytes: 8 * 1024 ** 3, free_disk_bytes: 1024 ** 3, slots: 1, runs: [],
      checkin_time: 1000, online: true, docker_ok: true, docker_message: null,
      warning: 'reported 2 GPUs before, none now: no GPU runs are sent to it',
    };
    const lines = formatWorkersTable([worker], 1001);
    expect(lines[2]).toMatch(/ok\s+reported 2 GPUs before, none now/);
  });
});

describe('values', () => {
  it('formats only known keys as sizes, durations and dates', () => {
    expect(formatValue('data_size', 1024)).toBe('1k');
    expect(formatValue('time', 75)).toBe('1m15s');
    expect(formatValue('exitcode', 1024)).toBe('1024');
    expect(formatValue('request_network', false)).toBe('false');
  });
});
