// Edit a bundle's name, description and tags, as `cl edit -n -d --tags` does (PATCH the bundle);
// shown to its owner (and root), and the server decides in the end.
import { useState, type FormEvent } from 'react';
import { validateBundleName } from '../../../src/common/names.js';
import { Bundle, bundleOpsRoutes, type UpdateBundleRequest } from '../../../src/protocol/index.js';
import { errorMessage, sendJson } from '../api.js';
import { formatValue } from '../format.js';

function text(bundle: Bundle, key: string): string {
  return formatValue(bundle.metadata[key]);
}

/** Tags as typed: split on commas and spaces. */
export function parseTags(typed: string): string[] {
  return typed.split(/[\s,]+/).filter((tag) => tag !== '');
}

export function EditMetadata({ bundle, onSaved }: { bundle: Bundle; onSaved: () => void }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState(text(bundle, 'name'));
  const [description, setDescription] = useState(text(bundle, 'description'));
  const [tags, setTags] = useState(text(bundle, 'tags'));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (!open) return <button type="button" onClick={() => setOpen(true)}>Edit metadata</button>;

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const request: UpdateBundleRequest = {
        metadata: { name: validateBundleName(name.trim()), description: description.trim() === '' ? null : description, tags: parseTags(tags) },
      };
      await sendJson('PATCH', bundleOpsRoutes.updateBundle(bundle.uuid), Bundle, request);
      setOpen(false);
      onSaved();
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="edit-metadata panel" onSubmit={(event) => void save(event)} aria-labelledby="edit-title">
      <h2 id="edit-title">Edit metadata</h2>
      <label htmlFor="edit-name">Name</label>
      <input id="edit-name" required value={name} onChange={(e) => setName(e.target.value)} />
      <label htmlFor="edit-description">Description</label>
      <textarea id="edit-description" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
      <label htmlFor="edit-tags">Tags (separated by commas or spaces)</label>
      <input id="edit-tags" value={tags} onChange={(e) => setTags(e.target.value)} />
      {error && <p className="error" role="alert">{error}</p>}
      <div className="buttons">
        <button type="submit" disabled={busy}>{busy ? 'Saving…' : 'Save'}</button>{' '}
        <button type="button" onClick={() => setOpen(false)}>Cancel</button>
      </div>
    </form>
  );
}
