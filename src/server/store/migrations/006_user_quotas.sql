-- Per-user quotas and access. A NULL quota means "the server's default" (--default-user-*-quota),
-- so changing a default reaches every user who was not given a quota of their own.
-- time_used: run-seconds on shared (root-owned) workers, accumulated from worker reports.
ALTER TABLE users ADD COLUMN is_active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN disk_quota INTEGER;
ALTER TABLE users ADD COLUMN time_quota REAL;
ALTER TABLE users ADD COLUMN parallel_run_quota INTEGER;
ALTER TABLE users ADD COLUMN time_used REAL NOT NULL DEFAULT 0;
-- Disk used is one SUM over the owner's bundles; this keeps it from scanning everyone's.
CREATE INDEX bundles_owner ON bundles(owner_id);
