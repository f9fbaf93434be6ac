// A small client-side router over the History API: the server answers index.html for every
// page path, and links switch pages without reloading.
import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const NAVIGATED = 'codalab:navigated';

export function navigate(path: string): void {
  window.history.pushState(null, '', path);
  window.dispatchEvent(new Event(NAVIGATED));
}

/** The path and query of the page (`/search?q=...`). */
export function usePath(): string {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const update = () => setPath(currentPath());
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATED, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATED, update);
    };
  }, []);
  return path;
}

function currentPath(): string {
  return window.location.pathname + window.location.search;
}

export type Route =
  | { page: 'worksheet'; spec: string | null }
  | { page: 'bundle'; uuid: string }
  | { page: 'workers' }
  | { page: 'search'; query: string }
  | { page: 'missing' };

export function matchRoute(pathAndQuery: string): Route {
  const [path = '', query = ''] = pathAndQuery.split('?', 2);
  if (path === '/search') return { page: 'search', query: new URLSearchParams(query).get('q') ?? '' };
  if (path === '/' || path === '') return { page: 'worksheet', spec: null };
  const worksheet = /^\/worksheets\/([^/]+)\/?$/.exec(path);
  if (worksheet?.[1]) return { page: 'worksheet', spec: decodeURIComponent(worksheet[1]) };
  const bundle = /^\/bundles\/(0x[0-9a-f]{32})\/?$/.exec(path);
  if (bundle?.[1]) return { page: 'bundle', uuid: bundle[1] };
  if (path === '/workers' || path === '/workers/') return { page: 'workers' };
  return { page: 'missing' };
}

export const paths = {
  home: () => '/',
  worksheet: (spec: string) => `/worksheets/${encodeURIComponent(spec)}`,
  bundle: (uuid: string) => `/bundles/${uuid}`,
  workers: () => '/workers',
  search: (query: string) => `/search?q=${encodeURIComponent(query)}`,
};

/** An ordinary link that the router follows in place (modified clicks still open a new tab). */
export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={follow} {...rest} />;
}
