// A run's stdout and stderr, the last lines of each, read again every second and a half while the
// run is not final (as `cl cat` would show them at that moment), then once more when it ends.
import { loadOutputTail, OUTPUT_TAIL_LINES } from '../contents.js';
import { useLoad } from '../use-load.js';

const OUTPUT_REFRESH_MS = 1500;

export function LiveOutput({ uuid, final }: { uuid: string; final: boolean }) {
  const { data, error } = useLoad(
    async () => ({ stdout: await loadOutputTail(uuid, 'stdout'), stderr: await loadOutputTail(uuid, 'stderr') }),
    [uuid, final],
    () => (final ? null : OUTPUT_REFRESH_MS),
  );
  return (
    <section aria-labelledby="output-title">
      <h2 id="output-title">Output {!final && <span className="subtle">(live)</span>}</h2>
      <p className="subtle">The last {OUTPUT_TAIL_LINES} lines of each.</p>
      {error && <p className="error" role="alert">{error}</p>}
      <OutputBlock label="stdout" text={data?.stdout} />
      <OutputBlock label="stderr" text={data?.stderr} />
    </section>
  );
}

function OutputBlock({ label, text }: { label: string; text: string | undefined }) {
  return (
    <figure className="output">
      <figcaption>{label}</figcaption>
      <pre data-testid={label} tabIndex={0} aria-label={label}>
        {text === undefined ? 'Loading…' : text === '' ? '(empty)' : text}
      </pre>
    </figure>
  );
}
