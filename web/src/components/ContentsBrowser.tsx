// A bundle's files: one directory level at a time (click a directory to enter it), a preview of a
// file's first 64 KiB, and a download of any file or directory. While the bundle runs (`live`)
// the listing is read again every few seconds, so new files and sizes show.
import { useState } from 'react';
import type { TargetInfo } from '../../../src/protocol/index.js';
import { download, loadInfo } from '../contents.js';
import { errorMessage } from '../api.js';
import { formatSize } from '../format.js';
import { useLoad } from '../use-load.js';
import { FilePreview } from './FilePreview.js';

const LIVE_LISTING_REFRESH_MS = 3000;

export function ContentsBrowser({ uuid, name, live }: { uuid: string; name: string; live: boolean }) {
  const [path, setPath] = useState('');
  const [previewPath, setPreviewPath] = useState<string | null>(null);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const { data: info, error } = useLoad(() => loadInfo(uuid, path), [uuid, path, live], () => (live ? LIVE_LISTING_REFRESH_MS : null));

  const save = (target: string, baseName: string) => {
    setDownloadError(null);
    download(uuid, target, baseName).catch((failure: unknown) => setDownloadError(errorMessage(failure)));
  };
  const enter = (target: string) => {
    setPath(target);
    setPreviewPath(null);
  };
  const parts = path === '' ? [] : path.split('/');
  const shownPreview = info?.type === 'file' && path === '' ? '' : previewPath;

  return (
    <section aria-labelledby="contents-title">
      <h2 id="contents-title">Contents</h2>
      <nav aria-label="Path" className="breadcrumbs">
        <button type="button" className="link" onClick={() => enter('')}>
          {name}
        </button>
        {parts.map((part, index) => (
          <span key={index}>
            {' / '}
            <button type="button" className="link" onClick={() => enter(parts.slice(0, index + 1).join('/'))}>
              {part}
            </button>
          </span>
        ))}
        <button type="button" onClick={() => save(path, parts.at(-1) ?? name)}>
          Download {path === '' ? 'all' : 'this directory'}
        </button>
      </nav>
      {error && <p className="error" role="alert">{error}</p>}
      {downloadError && <p className="error" role="alert">{downloadError}</p>}
      {info?.type === 'directory' && <Listing entries={info.contents ?? []} path={path} onEnter={enter} onPreview={setPreviewPath} onDownload={save} />}
      {shownPreview !== null && info && <FilePreview key={shownPreview} uuid={uuid} path={shownPreview} size={sizeOf(info, shownPreview, path)} />}
    </section>
  );
}

function sizeOf(info: TargetInfo, target: string, path: string): number | null {
  if (target === path) return info.size;
  return info.contents?.find((entry) => join(path, entry.name) === target)?.size ?? null;
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}/${name}`;
}

interface ListingProps {
  entries: readonly TargetInfo[];
  path: string;
  onEnter: (path: string) => void;
  onPreview: (path: string) => void;
  onDownload: (path: string, baseName: string) => void;
}

function Listing({ entries, path, onEnter, onPreview, onDownload }: ListingProps) {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (sorted.length === 0) return <p>This directory is empty.</p>;
  return (
    <table className="listing">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Size</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {sorted.map((entry) => {
          const target = join(path, entry.name);
          return (
            <tr key={entry.name}>
              <td>
                {entry.type === 'directory' ? (
                  <button type="button" className="link" onClick={() => onEnter(target)}>
                    {entry.name}/
                  </button>
                ) : entry.type === 'file' ? (
                  <button type="button" className="link" onClick={() => onPreview(target)}>
                    {entry.name}
                  </button>
                ) : (
                  <span>
                    {entry.name} → {entry.link ?? '?'}
                  </span>
                )}
              </td>
              <td>{entry.type === 'directory' ? 'dir' : formatSize(entry.size)}</td>
              <td>
                {entry.type !== 'link' && (
                  <button type="button" aria-label={`Download ${entry.name}`} onClick={() => onDownload(target, entry.name)}>
                    Download
                  </button>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
