// A bundle's dependencies, each a link to its parent's page (Provenance shows further up, and
// the dependents).
import type { Bundle } from '../../../src/protocol/index.js';
import { Link, paths } from '../router.js';
import { StateBadge } from './StateBadge.js';

export function Dependencies({ bundle }: { bundle: Bundle }) {
  if (bundle.dependencies.length === 0) return null;
  return (
    <section aria-labelledby="dependencies-title">
      <h2 id="dependencies-title">Dependencies</h2>
      <ul className="dependencies">
        {bundle.dependencies.map((dep) => (
          <li key={dep.child_path}>
            <code>{dep.child_path}</code> ←{' '}
            <Link href={paths.bundle(dep.parent_uuid)}>
              {dep.parent_name ?? dep.parent_uuid}
              {dep.parent_path ? `/${dep.parent_path}` : ''}
            </Link>{' '}
            {dep.parent_state && <StateBadge state={dep.parent_state} />}
          </li>
        ))}
      </ul>
    </section>
  );
}
