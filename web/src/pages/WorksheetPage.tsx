// A worksheet by name or uuid (`/worksheets/:spec`), or the user's home worksheet (`/`): its
// title and its bundles, reloaded every two seconds while any of them may still change state.
import { Worksheet, WorksheetContents, isFinalState, isPrivateBundle, routes } from '../../../src/protocol/index.js';
import { requestJson } from '../api.js';
import { BundleTable } from '../components/BundleTable.js';
import { useLoad } from '../use-load.js';

const LIVE_REFRESH_MS = 2000;

async function loadWorksheet(spec: string | null): Promise<WorksheetContents> {
  const worksheet = await requestJson(spec === null ? routes.homeWorksheet() : routes.worksheetBySpec(spec), Worksheet);
  return requestJson(routes.worksheetContents(worksheet.uuid), WorksheetContents);
}

function stillChanging(contents: WorksheetContents): number | null {
  const changing = contents.bundles.some((bundle) => !isPrivateBundle(bundle) && !isFinalState(bundle.state));
  return changing ? LIVE_REFRESH_MS : null;
}

export function WorksheetPage({ spec }: { spec: string | null }) {
  const { data, error } = useLoad(() => loadWorksheet(spec), [spec], stillChanging);
  if (error && !data) return <p className="error" role="alert">{error}</p>;
  if (!data) return <p aria-busy="true">Loading worksheet…</p>;
  const { worksheet, bundles } = data;
  return (
    <section aria-labelledby="worksheet-title">
      <h1 id="worksheet-title">{worksheet.title ?? worksheet.name}</h1>
      <p className="subtle">
        <span>{worksheet.name}</span> · owner {worksheet.owner_name} · <code>{worksheet.uuid}</code>
      </p>
      {error && <p className="error" role="alert">Could not refresh: {error}</p>}
      {bundles.length === 0 ? <p>This worksheet has no bundles yet.</p> : <BundleTable bundles={bundles} caption={`Bundles of ${worksheet.name}`} />}
    </section>
  );
}
