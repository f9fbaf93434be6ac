// The app shell: the sign-in form until there is a session, then the top bar and the page the
// path names. A 401 from any request ends the session and shows the form again.
import { useEffect, useState } from 'react';
import { loadSession, setSignedOutHandler, signOut, type Session } from './api.js';
import { TopBar } from './components/TopBar.js';
import { BundlePage } from './pages/BundlePage.js';
import { SearchPage } from './pages/SearchPage.js';
import { SignInPage } from './pages/SignInPage.js';
import { WorkersPage } from './pages/WorkersPage.js';
import { WorksheetPage } from './pages/WorksheetPage.js';
import { Link, matchRoute, paths, usePath } from './router.js';

export function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const path = usePath();

  useEffect(() => {
    setSignedOutHandler(() => setSession(null));
  }, []);

  if (!session) return <SignInPage onSignedIn={setSession} />;

  const leave = async () => {
    await signOut();
    setSession(null);
  };
  return (
    <>
      <TopBar userName={session.user.user_name} onSignOut={() => void leave()} />
      <main id="main">
        <Page path={path} />
      </main>
    </>
  );
}

function Page({ path }: { path: string }) {
  const route = matchRoute(path);
  switch (route.page) {
    case 'worksheet':
      return <WorksheetPage key={route.spec ?? ''} spec={route.spec} />;
    case 'bundle':
      return <BundlePage key={route.uuid} uuid={route.uuid} />;
    case 'workers':
      return <WorkersPage />;
    case 'search':
      return <SearchPage key={route.query} query={route.query} />;
    case 'missing':
      return (
        <section>
          <h1>Page not found</h1>
          <p>
            Nothing lives at <code>{path}</code>. <Link href={paths.home()}>Go to your home worksheet.</Link>
          </p>
        </section>
      );
  }
}
