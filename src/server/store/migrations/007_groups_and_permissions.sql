-- Groups and per-group permissions on bundles and worksheets (CodaLab's model): a grant is a
-- level, 1 = read and 2 = all, for one group on one object; no row means none. The owner and root
-- always have all, and every user is implicitly a member of the built-in `public` group.
CREATE TABLE groups (
  uuid TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  -- NULL only for the built-in public group.
  owner_id TEXT REFERENCES users(id),
  created INTEGER NOT NULL
);

CREATE TABLE group_members (
  group_uuid TEXT NOT NULL REFERENCES groups(uuid) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  is_admin INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (group_uuid, user_id)
);
CREATE INDEX group_members_by_user ON group_members(user_id);

CREATE TABLE bundle_permissions (
  bundle_uuid TEXT NOT NULL REFERENCES bundles(uuid) ON DELETE CASCADE,
  group_uuid TEXT NOT NULL REFERENCES groups(uuid) ON DELETE CASCADE,
  permission INTEGER NOT NULL CHECK (permission IN (1, 2)),
  PRIMARY KEY (bundle_uuid, group_uuid)
);
CREATE INDEX bundle_permissions_by_group ON bundle_permissions(group_uuid);

CREATE TABLE worksheet_permissions (
  worksheet_uuid TEXT NOT NULL REFERENCES worksheets(uuid) ON DELETE CASCADE,
  group_uuid TEXT NOT NULL REFERENCES groups(uuid) ON DELETE CASCADE,
  permission INTEGER NOT NULL CHECK (permission IN (1, 2)),
  PRIMARY KEY (worksheet_uuid, group_uuid)
);
CREATE INDEX worksheet_permissions_by_group ON worksheet_permissions(group_uuid);

INSERT INTO groups (uuid, name, owner_id, created) VALUES ('0x00000000000000000000000000000000', 'public', NULL, 0);

-- Before this migration every signed-in user could read everything: existing bundles and
-- worksheets keep that (public: read), so nothing a lab shares disappears on upgrade. New ones
-- are private to their owner unless their worksheet grants more.
INSERT INTO bundle_permissions (bundle_uuid, group_uuid, permission) SELECT uuid, '0x00000000000000000000000000000000', 1 FROM bundles;
INSERT INTO worksheet_permissions (worksheet_uuid, group_uuid, permission) SELECT uuid, '0x00000000000000000000000000000000', 1 FROM worksheets;
