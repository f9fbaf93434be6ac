// The workers page comes with the next part of the web interface; the link is there already.
export function WorkersPage() {
  return (
    <section>
      <h1>Workers</h1>
      <p>This page is not built yet. Meanwhile, <code>cl workers</code> lists the workers and <code>cl status</code> the staged runs.</p>
    </section>
  );
}
