// One bundle (`/bundles/:uuid`): its metadata, dependencies, contents and, while it runs, its
// output; reloaded every two seconds until its state is final. A run not yet final can be killed.
import { Bundle, isFinalState, routes } from '../../../src/protocol/index.js';
import { requestJson } from '../api.js';
import { ContentsBrowser } from '../components/ContentsBrowser.js';
import { Dependencies } from '../components/Dependencies.js';
import { KillButton } from '../components/KillButton.js';
import { LiveOutput } from '../components/LiveOutput.js';
import { MetadataTable } from '../components/MetadataTable.js';
import { bundleName } from '../format.js';
import { useLoad } from '../use-load.js';

const LIVE_REFRESH_MS = 2000;

export function BundlePage({ uuid }: { uuid: string }) {
  const { data: bundle, error, reload } = useLoad(
    () => requestJson(routes.bundle(uuid), Bundle),
    [uuid],
    (loaded) => (isFinalState(loaded.state) ? null : LIVE_REFRESH_MS),
  );
  if (error && !bundle) return <p className="error" role="alert">{error}</p>;
  if (!bundle) return <p aria-busy="true">Loading bundle…</p>;
  const final = isFinalState(bundle.state);
  return (
    <article aria-labelledby="bundle-title">
      <div className="title-row">
        <h1 id="bundle-title">{bundleName(bundle)}</h1>
        {!final && <KillButton uuid={bundle.uuid} onKilled={reload} />}
      </div>
      {error && <p className="error" role="alert">Could not refresh: {error}</p>}
      <MetadataTable bundle={bundle} />
      <Dependencies bundle={bundle} />
      {bundle.bundle_type !== 'dataset' && <LiveOutput uuid={bundle.uuid} final={final} />}
      <ContentsBrowser uuid={bundle.uuid} name={bundleName(bundle)} live={!final} />
    </article>
  );
}
