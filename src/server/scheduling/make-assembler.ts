// Assembles make bundles on the server: a staged make moves to `making`, its targets are copied
// from the parents' contents into staging (symlinks copied as links, never followed), and it
// becomes `ready`, or `failed` with the reason. Guarded updates: a make killed meanwhile stays killed.
// A failed or killed parent that left no contents is left out; with nothing left, the make is an empty directory.
import { cp, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BlobStore } from '../blobs/blob-store.js';
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/log.js';
import type { Store } from '../store/store.js';
import { dependenciesWithContents } from './staging.js';

/** Assembles every staged make; returns whether any changed state (so a new pass can stage children). */
export async function assembleStagedMakes(store: Store, blobs: BlobStore, clock: Clock, log: Logger): Promise<boolean> {
  const makes = (await store.listBundlesInStates(['staged'])).filter((b) => b.bundle_type === 'make');
  for (const make of makes) {
    const claimed = await store.updateBundle(
      make.uuid,
      { state: 'making', last_updated: clock.now(), metadata: { staged_status: null } },
      { states: ['staged'] },
    );
    if (!claimed) continue;
    const allDeps = await store.getDependencies([make.uuid]);
    const parents = new Map((await store.getBundles(allDeps.map((d) => d.parent_uuid))).map((p) => [p.uuid, p]));
    // Only --allow-failed-dependencies lets a parent without contents get here; it adds nothing.
    const deps = dependenciesWithContents(allDeps, parents);
    try {
      const stored = await blobs.storeAssembled(make.uuid, async (stage) => {
        const [only] = deps;
        if (deps.length === 1 && only && only.child_path === '') {
          const source = await blobs.resolve(only.parent_uuid, only.parent_path);
          const target = join(stage, 'content');
          await copyVerbatim(source.path, target);
          return target;
        }
        const root = join(stage, 'content');
        await mkdir(root);
        for (const dep of deps) {
          const source = await blobs.resolve(dep.parent_uuid, dep.parent_path);
          const target = join(root, dep.child_path);
          await mkdir(dirname(target), { recursive: true });
          await copyVerbatim(source.path, target);
        }
        return root;
      });
      await store.updateBundle(
        make.uuid,
        { state: 'ready', is_dir: stored.is_dir, last_updated: clock.now(), metadata: { data_size: stored.data_size } },
        { states: ['making'] },
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log.child({ make: make.uuid }).warn(`make failed: ${message}`);
      await store.updateBundle(
        make.uuid,
        { state: 'failed', last_updated: clock.now(), metadata: { failure_message: `Make failed: ${message}` } },
        { states: ['making'] },
      );
    }
  }
  return makes.length > 0;
}

async function copyVerbatim(source: string, target: string): Promise<void> {
  await cp(source, target, { recursive: true, verbatimSymlinks: true, dereference: false, errorOnExist: true, force: false });
}

/**
 * At server start: a make left `making` was cut off by a restart (its staging was cleared), so it
 * is staged again and assembled anew; contents commit by rename, so none were half-written.
 */
export async function restageInterruptedMakes(store: Store, clock: Clock, log: Logger): Promise<number> {
  let restaged = 0;
  for (const make of await store.listBundlesInStates(['making'])) {
    const change = { state: 'staged' as const, last_updated: clock.now(), metadata: { staged_status: 'Assembly interrupted by a server restart; assembling it again.' } };
    if (await store.updateBundle(make.uuid, change, { states: ['making'] })) {
      log.child({ make: make.uuid }).info('the make was cut off by a restart; assembling it again');
      restaged += 1;
    }
  }
  return restaged;
}
