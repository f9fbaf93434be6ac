// The first 64 KiB of a file as text, saying so when the file is longer.
import { loadPreview, PREVIEW_MAX_BYTES } from '../contents.js';
import { formatSize } from '../format.js';
import { useLoad } from '../use-load.js';

export function FilePreview({ uuid, path, size }: { uuid: string; path: string; size: number | null }) {
  const { data, error } = useLoad(() => loadPreview(uuid, path), [uuid, path]);
  const label = path === '' ? 'the file' : path;
  return (
    <figure className="preview" aria-label={`Preview of ${label}`}>
      <figcaption>
        {label}
        {size !== null && <span className="subtle"> · {formatSize(size)}</span>}
      </figcaption>
      {error && <p className="error" role="alert">{error}</p>}
      {data?.cut && (
        <p className="note">
          Showing the first {formatSize(PREVIEW_MAX_BYTES)}
          {size !== null ? ` of ${formatSize(size)}` : ''}; download the file for the rest.
        </p>
      )}
      <pre data-testid="preview" tabIndex={0}>
        {data ? data.text : error ? '' : 'Loading…'}
      </pre>
    </figure>
  );
}
