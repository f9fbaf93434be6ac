// Bundles found by `cl search` keywords (`/search?q=...`), newest first, in the bundle table.
// The server parses the keywords and answers one line for any it cannot read.
import { bundleOpsRoutes, SearchResponse, type SearchRequest } from '../../../src/protocol/index.js';
import { sendJson } from '../api.js';
import { BundleTable } from '../components/BundleTable.js';
import { useLoad } from '../use-load.js';

/** Keywords as a shell would split them for `cl search` (no quoting: keywords hold no spaces). */
export function searchKeywords(query: string): string[] {
  return query.split(/\s+/).filter((word) => word !== '');
}

export function SearchPage({ query }: { query: string }) {
  const { data, error } = useLoad(() => {
    const request: SearchRequest = { keywords: searchKeywords(query) };
    return sendJson('POST', bundleOpsRoutes.search(), SearchResponse, request);
  }, [query]);
  return (
    <section aria-labelledby="search-title">
      <h1 id="search-title">Search: {query}</h1>
      {error && <p className="error" role="alert">{error}</p>}
      {!data && !error && <p aria-busy="true">Searching…</p>}
      {data && data.result !== null && <p className="search-result">Result: {data.result}</p>}
      {data && data.result === null && data.bundles.length === 0 && <p>No bundle matches.</p>}
      {data && data.bundles.length > 0 && (
        <BundleTable rows={data.bundles.map((bundle, index) => ({ bundle, reference: String(index + 1) }))} caption={`Bundles matching ${query}`} />
      )}
      {data?.more && <p className="note">More bundles match: add .limit=N or .offset=N to see them.</p>}
    </section>
  );
}
