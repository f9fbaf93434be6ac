// A worksheet by name or uuid (`/worksheets/:spec`), or the user's home worksheet (`/`): its
// title, its text and bundles in order, reloaded every two seconds while any bundle may still
// change state; with forms to upload files and start a run on it.
import { bundleOpsRoutes, isFinalState, routes, Worksheet, WorksheetItems } from '../../../src/protocol/index.js';
import { requestJson } from '../api.js';
import { BundleTable } from '../components/BundleTable.js';
import { NewRunForm } from '../components/NewRunForm.js';
import { UploadPanel } from '../components/UploadPanel.js';
import { Markdown } from '../markdown.js';
import { useLoad } from '../use-load.js';
import { readableBundles, worksheetSections } from '../worksheet-sections.js';

const LIVE_REFRESH_MS = 2000;

async function loadWorksheet(spec: string | null): Promise<WorksheetItems> {
  const worksheet = await requestJson(spec === null ? routes.homeWorksheet() : routes.worksheetBySpec(spec), Worksheet);
  return requestJson(bundleOpsRoutes.worksheetItems(worksheet.uuid), WorksheetItems);
}

function stillChanging(contents: WorksheetItems): number | null {
  const changing = contents.items.some((item) => item.type === 'bundle' && !isFinalState(item.bundle.state));
  return changing ? LIVE_REFRESH_MS : null;
}

export function WorksheetPage({ spec }: { spec: string | null }) {
  const { data, error, reload } = useLoad(() => loadWorksheet(spec), [spec], stillChanging);
  if (error && !data) return <p className="error" role="alert">{error}</p>;
  if (!data) return <p aria-busy="true">Loading worksheet…</p>;
  const { worksheet, items } = data;
  const sections = worksheetSections(items);
  return (
    <section aria-labelledby="worksheet-title">
      <h1 id="worksheet-title">{worksheet.title ?? worksheet.name}</h1>
      <p className="subtle">
        <span>{worksheet.name}</span> · owner {worksheet.owner_name} · <code>{worksheet.uuid}</code>
      </p>
      {error && <p className="error" role="alert">Could not refresh: {error}</p>}
      {sections.length === 0 && <p>This worksheet is empty.</p>}
      {sections.map((section, index) =>
        section.kind === 'markup' ? (
          <Markdown key={index} source={section.value} />
        ) : (
          <BundleTable key={index} rows={section.rows} caption={`Bundles of ${worksheet.name}`} />
        ),
      )}
      <div className="worksheet-actions">
        <UploadPanel worksheet={worksheet.uuid} onUploaded={reload} />
        <NewRunForm worksheet={worksheet.uuid} bundles={readableBundles(items)} onCreated={reload} />
      </div>
    </section>
  );
}
