// A run's stdout and stderr: pushed by the server as the run writes them (the follow route) while
// it is not final, then the last lines of each read once from its stored results.
import { useEffect, useState } from 'react';
import { loadOutputTail, OUTPUT_TAIL_LINES } from '../contents.js';
import { followOutput, type OutputStream } from '../follow-output.js';
import { useLoad } from '../use-load.js';

/** Keeps the last OUTPUT_TAIL_LINES lines, as the final view shows. */
export function lastLines(text: string): string {
  const lines = text.split('\n');
  return lines.length > OUTPUT_TAIL_LINES + 1 ? lines.slice(-(OUTPUT_TAIL_LINES + 1)).join('\n') : text;
}

function useFollowed(uuid: string, active: boolean): Record<OutputStream, string> | null {
  const [output, setOutput] = useState<Record<OutputStream, string> | null>(null);
  useEffect(() => {
    if (!active) return;
    const controller = new AbortController();
    setOutput({ stdout: '', stderr: '' });
    void followOutput(uuid, controller.signal, (stream, text) =>
      setOutput((shown) => (shown ? { ...shown, [stream]: lastLines(shown[stream] + text) } : shown)),
    );
    return () => controller.abort();
  }, [uuid, active]);
  return output;
}

export function LiveOutput({ uuid, final }: { uuid: string; final: boolean }) {
  const followed = useFollowed(uuid, !final);
  const { data: stored, error } = useLoad(
    async () => (final ? { stdout: await loadOutputTail(uuid, 'stdout'), stderr: await loadOutputTail(uuid, 'stderr') } : null),
    [uuid, final],
  );
  // The followed text stays up until the stored tail has loaded, so the output never blinks out.
  const shown = final ? (stored ?? followed) : followed;
  return (
    <section aria-labelledby="output-title">
      <h2 id="output-title">Output {!final && <span className="subtle">(live)</span>}</h2>
      <p className="subtle">The last {OUTPUT_TAIL_LINES} lines of each.</p>
      {error && <p className="error" role="alert">{error}</p>}
      <OutputBlock label="stdout" text={shown?.stdout} />
      <OutputBlock label="stderr" text={shown?.stderr} />
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
