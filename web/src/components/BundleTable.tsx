// A worksheet's bundles, oldest first, each with the `^N` that `cl ls` gives it (^1: the newest).
import { isPrivateBundle, PRIVATE_BUNDLE_NAME, type Bundle, type PrivateBundle } from '../../../src/protocol/index.js';
import { bundleName, formatBytes, formatCreated, formatDuration } from '../format.js';
import { Link, paths } from '../router.js';
import { StateBadge } from './StateBadge.js';

export function BundleTable({ bundles, caption }: { bundles: readonly (Bundle | PrivateBundle)[]; caption: string }) {
  return (
    <div className="table-scroll">
      <table className="bundles">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Name</th>
            <th scope="col">State</th>
            <th scope="col">Command</th>
            <th scope="col">Created</th>
            <th scope="col">Time</th>
            <th scope="col">Memory</th>
            <th scope="col">Size</th>
          </tr>
        </thead>
        <tbody>
          {bundles.map((bundle, index) => (
            <BundleRow key={bundle.uuid} bundle={bundle} reference={`^${bundles.length - index}`} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function BundleRow({ bundle, reference }: { bundle: Bundle | PrivateBundle; reference: string }) {
  if (isPrivateBundle(bundle)) {
    return (
      <tr data-uuid={bundle.uuid}>
        <td>{reference}</td>
        <td colSpan={7}>{PRIVATE_BUNDLE_NAME}</td>
      </tr>
    );
  }
  return (
    <tr data-uuid={bundle.uuid}>
      <td>{reference}</td>
      <td>
        <Link href={paths.bundle(bundle.uuid)}>{bundleName(bundle)}</Link>
      </td>
      <td>
        <StateBadge state={bundle.state} />
      </td>
      <td className="command">{bundle.command ?? (bundle.bundle_type === 'dataset' ? '[uploaded]' : '')}</td>
      <td>{formatCreated(bundle.created)}</td>
      <td>{formatDuration(bundle.metadata.time)}</td>
      <td>{formatBytes(bundle.metadata.memory)}</td>
      <td>{formatBytes(bundle.metadata.data_size)}</td>
    </tr>
  );
}
