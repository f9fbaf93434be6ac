// The bar on every page: navigation, the search box (`cl search` keywords), who is signed in.
import { useState, type FormEvent } from 'react';
import { Link, navigate, paths } from '../router.js';

export function TopBar({ userName, onSignOut }: { userName: string; onSignOut: () => void }) {
  const [query, setQuery] = useState('');
  const search = (event: FormEvent) => {
    event.preventDefault();
    if (query.trim() !== '') navigate(paths.search(query.trim()));
  };
  return (
    <header className="top-bar">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <span className="app-name">CodaLab</span>
      <nav aria-label="Main">
        <ul>
          <li>
            <Link href={paths.home()}>Home</Link>
          </li>
          <li>
            <Link href={paths.workers()}>Workers</Link>
          </li>
        </ul>
      </nav>
      <form role="search" className="search" onSubmit={search}>
        <label htmlFor="search-keywords" className="visually-hidden">Search bundles</label>
        <input id="search-keywords" type="search" placeholder="Search bundles: name state=ready .mine" value={query} onChange={(e) => setQuery(e.target.value)} />
        <button type="submit">Search</button>
      </form>
      <span className="signed-in" aria-label="Signed in as">
        {userName}
      </span>
      <button type="button" onClick={onSignOut}>
        Sign out
      </button>
    </header>
  );
}
