// Drop files here, or pick them with the file input (keyboard users): each becomes a dataset on
// the worksheet, as `cl upload FILE` makes it, with a progress bar while its bytes travel.
import { useState, type DragEvent } from 'react';
import { errorMessage } from '../api.js';
import { uploadFile } from '../upload.js';

interface Transfer {
  name: string;
  fraction: number;
  error: string | null;
}

export function UploadPanel({ worksheet, onUploaded }: { worksheet: string; onUploaded: () => void }) {
  const [transfers, setTransfers] = useState<Transfer[]>([]);
  const [dragging, setDragging] = useState(false);

  const update = (name: string, change: Partial<Transfer>) =>
    setTransfers((all) => all.map((t) => (t.name === name ? { ...t, ...change } : t)));

  const upload = async (files: readonly File[]) => {
    setTransfers(files.map((file) => ({ name: file.name, fraction: 0, error: null })));
    for (const file of files) {
      try {
        await uploadFile(worksheet, file, (fraction) => update(file.name, { fraction }));
      } catch (failure) {
        update(file.name, { error: errorMessage(failure) });
      }
      onUploaded();
    }
  };

  const drop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setDragging(false);
    void upload([...event.dataTransfer.files]);
  };

  return (
    <section aria-labelledby="upload-title" className="panel">
      <h2 id="upload-title">Upload</h2>
      <div
        className={dragging ? 'drop-zone dragging' : 'drop-zone'}
        data-testid="drop-zone"
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={drop}
      >
        <p>Drop files here to upload each as a dataset (archives are unpacked), or</p>
        <label htmlFor="upload-files">Choose files to upload</label>{' '}
        <input
          id="upload-files"
          type="file"
          multiple
          onChange={(event) => {
            const files = [...(event.target.files ?? [])];
            event.target.value = '';
            if (files.length > 0) void upload(files);
          }}
        />
      </div>
      <ul className="transfers" aria-live="polite">
        {transfers.map((t) => (
          <li key={t.name}>
            <label>
              {t.name}{' '}
              <progress max={1} value={t.fraction} aria-label={`Upload of ${t.name}`} />
            </label>{' '}
            {t.error ? (
              <span className="error" role="alert">{t.error}</span>
            ) : (
              <span>{t.fraction >= 1 ? 'uploaded' : `${Math.round(t.fraction * 100)}%`}</span>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
