// One bundle (`/bundles/:uuid`): its metadata, dependencies, contents and, while it runs, its
// output; reloaded every two seconds until its state is final. A run not yet final can be killed;
// its owner can edit its name, description and tags. Below: provenance and dependents.
import { Bundle, isFinalState, routes } from '../../../src/protocol/index.js';
import { loadSession, requestJson } from '../api.js';
import { ContentsBrowser } from '../components/ContentsBrowser.js';
import { Dependencies } from '../components/Dependencies.js';
import { EditMetadata } from '../components/EditMetadata.js';
import { KillButton } from '../components/KillButton.js';
import { LiveOutput } from '../components/LiveOutput.js';
import { MetadataTable } from '../components/MetadataTable.js';
import { Provenance } from '../components/Provenance.js';
import { bundleName } from '../format.js';
import { useLoad } from '../use-load.js';

const LIVE_REFRESH_MS = 2000;

/** The edit form starts over when these change, not on every refresh of a running bundle. */
function editedFields(bundle: Bundle): string {
  return JSON.stringify([bundle.metadata.name, bundle.metadata.description, bundle.metadata.tags]);
}

export function BundlePage({ uuid }: { uuid: string }) {
  const { data: bundle, error, reload } = useLoad(
    () => requestJson(routes.bundle(uuid), Bundle),
    [uuid],
    (loaded) => (isFinalState(loaded.state) ? null : LIVE_REFRESH_MS),
  );
  if (error && !bundle) return <p className="error" role="alert">{error}</p>;
  if (!bundle) return <p aria-busy="true">Loading bundle…</p>;
  const final = isFinalState(bundle.state);
  const user = loadSession()?.user;
  const mayEdit = user !== undefined && (user.is_root || user.id === bundle.owner_id);
  return (
    <article aria-labelledby="bundle-title">
      <div className="title-row">
        <h1 id="bundle-title">{bundleName(bundle)}</h1>
        {!final && <KillButton uuid={bundle.uuid} onKilled={reload} />}
      </div>
      {error && <p className="error" role="alert">Could not refresh: {error}</p>}
      <MetadataTable bundle={bundle} />
      {mayEdit && <EditMetadata key={editedFields(bundle)} bundle={bundle} onSaved={reload} />}
      <Dependencies bundle={bundle} />
      <Provenance bundle={bundle} />
      {bundle.bundle_type !== 'dataset' && <LiveOutput uuid={bundle.uuid} final={final} />}
      <ContentsBrowser uuid={bundle.uuid} name={bundleName(bundle)} live={!final} />
    </article>
  );
}
