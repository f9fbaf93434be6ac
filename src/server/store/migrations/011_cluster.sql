-- Several servers on one database. Each server lists itself (its advertised URL, by which its
-- peers reach it, and a secret they present); a lease names the one server that runs the
-- scheduling pass, until it expires unrenewed; a worker row names the server its long poll
-- rests on, where requests for its runs must be queued.
CREATE TABLE servers (
  url TEXT PRIMARY KEY,
  secret TEXT NOT NULL,
  heartbeat_time INTEGER NOT NULL
);
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires INTEGER NOT NULL
);
ALTER TABLE workers ADD COLUMN server_url TEXT;
