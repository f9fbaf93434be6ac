import { Link, paths } from '../router.js';

export function TopBar({ userName, onSignOut }: { userName: string; onSignOut: () => void }) {
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
      <span className="signed-in" aria-label="Signed in as">
        {userName}
      </span>
      <button type="button" onClick={onSignOut}>
        Sign out
      </button>
    </header>
  );
}
