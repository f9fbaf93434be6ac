// Start a run on the worksheet: a command, dependencies picked from the worksheet's bundles
// (`key:bundle`, the key defaulting to the bundle's name) and the resource requests of `cl run`,
// checked by the same parser (`parseRunRequests`) before anything is sent.
import { useState, type FormEvent } from 'react';
import { defaultRunName, validateBundleName } from '../../../src/common/names.js';
import { Bundle, CreateBundleRequest, routes } from '../../../src/protocol/index.js';
import { mergeDependencies, parseRunRequests, type RunFlags } from '../../../src/cli/run-args.js';
import { errorMessage, sendJson } from '../api.js';
import { bundleName } from '../format.js';
import { DependencyPicker, type PickedDependency } from './DependencyPicker.js';

const REQUEST_FIELDS = [
  ['requestMemory', 'Memory', 'e.g. 2g'],
  ['requestDisk', 'Disk', 'e.g. 10g'],
  ['requestTime', 'Time', 'e.g. 1h'],
  ['requestCpus', 'CPUs', 'e.g. 1'],
  ['requestGpus', 'GPUs', 'e.g. 0'],
  ['requestDockerImage', 'Docker image', 'server default'],
  ['requestQueue', 'Queue', 'a worker tag'],
] as const;
type RequestField = (typeof REQUEST_FIELDS)[number][0];

/** The request to create the run, or a one-line reason why the form is not valid. Pure. */
export function planWebRun(command: string, name: string, picked: readonly PickedDependency[], requests: Partial<Record<RequestField, string>>, network: boolean): CreateBundleRequest {
  if (command.trim() === '') throw new Error('Enter the command to run.');
  // Stored only when asked for, as `cl run` stores no request_network without the flag.
  const flags: RunFlags = network ? { requestNetwork: true } : {};
  for (const [field, label] of REQUEST_FIELDS) {
    const value = requests[field]?.trim();
    if (!value) continue;
    try {
      parseRunRequests({ [field]: value });
    } catch (error) {
      throw new Error(`${label}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    flags[field] = value;
  }
  const metadata = { name: name.trim() === '' ? defaultRunName(command) : validateBundleName(name.trim()), ...parseRunRequests(flags) };
  const chosen = mergeDependencies(picked.map((p) => ({ key: p.key.trim(), target: { worksheet: null, bundle: p.uuid, subpath: '' } })));
  const dependencies = chosen.map((d) => ({ child_path: d.key, parent_uuid: d.target.bundle, parent_path: '' }));
  const parsed = CreateBundleRequest.safeParse({ bundle_type: 'run', command, metadata, dependencies });
  if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => issue.message).join('; '));
  return parsed.data;
}

export function NewRunForm({ worksheet, bundles, onCreated }: { worksheet: string; bundles: readonly Bundle[]; onCreated: () => void }) {
  const [command, setCommand] = useState('');
  const [name, setName] = useState('');
  const [picked, setPicked] = useState<PickedDependency[]>([]);
  const [requests, setRequests] = useState<Partial<Record<RequestField, string>>>({});
  const [network, setNetwork] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      const request = planWebRun(command, name, picked, requests, network);
      setBusy(true);
      await sendJson('POST', routes.createBundle(worksheet), Bundle, request);
      setCommand('');
      setName('');
      setPicked([]);
      onCreated();
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="new-run-title" className="panel">
      <h2 id="new-run-title">New run</h2>
      <form className="new-run" onSubmit={(event) => void submit(event)}>
        <label htmlFor="run-command">Command</label>
        <textarea id="run-command" required rows={2} value={command} onChange={(e) => setCommand(e.target.value)} />
        <label htmlFor="run-name">Name (optional)</label>
        <input id="run-name" value={name} placeholder={command ? defaultRunName(command) : ''} onChange={(e) => setName(e.target.value)} />
        <DependencyPicker bundles={bundles} picked={picked} onChange={setPicked} nameOf={bundleName} />
        <fieldset className="requests">
          <legend>Resources</legend>
          {REQUEST_FIELDS.map(([field, label, hint]) => (
            <span key={field}>
              <label htmlFor={`run-${field}`}>{label}</label>
              <input id={`run-${field}`} placeholder={hint} value={requests[field] ?? ''} onChange={(e) => setRequests({ ...requests, [field]: e.target.value })} />
            </span>
          ))}
          <span>
            <input id="run-network" type="checkbox" checked={network} onChange={(e) => setNetwork(e.target.checked)} />{' '}
            <label htmlFor="run-network">Network access</label>
          </span>
        </fieldset>
        {error && <p className="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? 'Starting…' : 'Start run'}</button>
      </form>
    </section>
  );
}
