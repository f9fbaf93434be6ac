// Kills a run, as `cl kill` does (POST /rest/bundle-actions); the page then shows its new state.
import { useState } from 'react';
import { BundleActionResponse, routes, type BundleAction } from '../../../src/protocol/index.js';
import { errorMessage, requestJson } from '../api.js';

export function KillButton({ uuid, onKilled }: { uuid: string; onKilled: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const kill = async () => {
    setBusy(true);
    setError(null);
    try {
      const action: BundleAction = { type: 'kill', uuid };
      await requestJson(routes.bundleActions(), BundleActionResponse, action);
      onKilled();
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="kill">
      <button type="button" className="danger" disabled={busy} onClick={() => void kill()}>
        {busy ? 'Killing…' : 'Kill'}
      </button>
      {error && <p className="error" role="alert">{error}</p>}
    </div>
  );
}
