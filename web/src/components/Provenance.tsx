// Where a bundle comes from: its dependencies, theirs, and theirs again (PROVENANCE_DEPTH levels),
// as nested lists of links; and the bundles that depend on it (the children route, which shows
// only those the user may read).
import { Bundle, BundleList, bundleOpsRoutes, routes } from '../../../src/protocol/index.js';
import { requestJson } from '../api.js';
import { bundleName } from '../format.js';
import { Link, paths } from '../router.js';
import { useLoad } from '../use-load.js';
import { StateBadge } from './StateBadge.js';

export const PROVENANCE_DEPTH = 3;

interface Node {
  key: string;
  uuid: string;
  bundle: Bundle | null;
  parents: Node[];
}

/** The upstream tree, each bundle fetched once; one the user may not read stays a bare uuid. */
async function loadUpstream(bundle: Bundle, depth: number, cache: Map<string, Promise<Bundle | null>>): Promise<Node[]> {
  if (depth === 0) return [];
  return Promise.all(
    bundle.dependencies.map(async (dep) => {
      let parent = cache.get(dep.parent_uuid);
      if (!parent) {
        parent = requestJson(routes.bundle(dep.parent_uuid), Bundle).catch(() => null);
        cache.set(dep.parent_uuid, parent);
      }
      const loaded = await parent;
      const parents = loaded ? await loadUpstream(loaded, depth - 1, cache) : [];
      return { key: dep.child_path, uuid: dep.parent_uuid, bundle: loaded, parents };
    }),
  );
}

function Tree({ nodes }: { nodes: readonly Node[] }) {
  return (
    <ul className="provenance">
      {nodes.map((node) => (
        <li key={node.key}>
          <code>{node.key}</code> ← <Link href={paths.bundle(node.uuid)}>{node.bundle ? bundleName(node.bundle) : node.uuid}</Link>{' '}
          {node.bundle && <StateBadge state={node.bundle.state} />}
          {node.parents.length > 0 && <Tree nodes={node.parents} />}
        </li>
      ))}
    </ul>
  );
}

export function Provenance({ bundle }: { bundle: Bundle }) {
  const { data } = useLoad(async () => {
    const [upstream, children] = await Promise.all([loadUpstream(bundle, PROVENANCE_DEPTH, new Map()), requestJson(bundleOpsRoutes.children(bundle.uuid), BundleList)]);
    return { upstream, dependents: children.bundles };
  }, [bundle.uuid, bundle.dependencies.length]);
  if (!data) return null;
  return (
    <>
      {data.upstream.length > 0 && (
        <section aria-labelledby="provenance-title">
          <h2 id="provenance-title">Provenance ({PROVENANCE_DEPTH} levels up)</h2>
          <Tree nodes={data.upstream} />
        </section>
      )}
      <section aria-labelledby="dependents-title">
        <h2 id="dependents-title">Dependents</h2>
        {data.dependents.length === 0 ? (
          <p>No bundle you may read depends on this one.</p>
        ) : (
          <ul className="dependents">
            {data.dependents.map((child) => (
              <li key={child.uuid}>
                <Link href={paths.bundle(child.uuid)}>{bundleName(child)}</Link> <StateBadge state={child.state} />
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
