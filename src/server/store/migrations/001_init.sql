-- Initial schema. Times are epoch milliseconds; metadata is a JSON object.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  user_name TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  is_root INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL
);

CREATE TABLE tokens (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  expires_at INTEGER NOT NULL
);

CREATE TABLE worksheets (
  uuid TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  title TEXT,
  owner_id TEXT NOT NULL REFERENCES users(id),
  created INTEGER NOT NULL
);

CREATE TABLE bundles (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  uuid TEXT NOT NULL UNIQUE,
  bundle_type TEXT NOT NULL,
  command TEXT,
  state TEXT NOT NULL,
  owner_id TEXT NOT NULL REFERENCES users(id),
  is_dir INTEGER,
  created INTEGER NOT NULL,
  last_updated INTEGER NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  name TEXT NOT NULL,
  -- The worker holding the run and the assignment it holds it under; reports naming another
  -- assignment are stale and change nothing.
  worker_owner_id TEXT,
  worker_id TEXT,
  assignment_id TEXT,
  kill_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX bundles_state ON bundles(state);
CREATE INDEX bundles_name ON bundles(name);
CREATE INDEX bundles_worker ON bundles(worker_owner_id, worker_id);

CREATE TABLE bundle_dependencies (
  child_uuid TEXT NOT NULL,
  child_path TEXT NOT NULL,
  parent_uuid TEXT NOT NULL,
  parent_path TEXT NOT NULL,
  PRIMARY KEY (child_uuid, child_path)
);
CREATE INDEX bundle_dependencies_parent ON bundle_dependencies(parent_uuid);

CREATE TABLE worksheet_items (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  worksheet_uuid TEXT NOT NULL REFERENCES worksheets(uuid),
  bundle_uuid TEXT NOT NULL
);
CREATE INDEX worksheet_items_worksheet ON worksheet_items(worksheet_uuid, id);

CREATE TABLE workers (
  owner_id TEXT NOT NULL REFERENCES users(id),
  id TEXT NOT NULL,
  hostname TEXT NOT NULL,
  tag TEXT,
  tag_exclusive INTEGER NOT NULL DEFAULT 0,
  cpus INTEGER NOT NULL,
  gpus INTEGER NOT NULL,
  memory_bytes INTEGER NOT NULL,
  free_disk_bytes INTEGER NOT NULL,
  slots INTEGER NOT NULL,
  runs_left INTEGER,
  cached_dependencies TEXT NOT NULL DEFAULT '[]',
  docker_ok INTEGER NOT NULL DEFAULT 1,
  docker_message TEXT,
  checkin_time INTEGER NOT NULL,
  PRIMARY KEY (owner_id, id)
);
