-- Per-user quotas and access. A NULL quota means "the server's default" (--default-user-*-quota),
-- so changing a default reaches every user who was not given a quota of their own.
-- time_used: run-seconds on shared (root-owned) workers, accumulated from worker reports.
ALTER TABLE users ADD COLUMN is_active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN disk_quota INTEGER;
ALTER TABLE users ADD COLUMN time_quota REAL;
ALTER TABLE users ADD COLUMN parallel_run_quota INTEGER;
ALTER TABLE users ADD COLUMN time_used REAL NOT NULL DEFAULT 0;
-- Disk used is one SUM over the owner's bundles. data_size lives in the metadata JSON; reading it
-- per row takes ~200 ms for 100k bundles, so a virtual column indexed with the owner makes the sum
-- a scan of the index (~10 ms), kept right by SQLite on every insert, update and delete.
-- engine: sqlite
ALTER TABLE bundles ADD COLUMN disk_bytes INTEGER GENERATED ALWAYS AS (
  CASE WHEN json_type(metadata, '$.data_size') IN ('integer', 'real') THEN json_extract(metadata, '$.data_size') ELSE 0 END
) VIRTUAL;
-- engine: postgres
-- PostgreSQL has no virtual columns; a stored one is kept right the same way. Float, not BIGINT:
-- SQLite keeps a fractional or huge data_size as it is, and so must this.
ALTER TABLE bundles ADD COLUMN disk_bytes FLOAT8 GENERATED ALWAYS AS (
  CASE WHEN jsonb_typeof(metadata::jsonb -> 'data_size') = 'number' THEN (metadata::jsonb ->> 'data_size')::FLOAT8 ELSE 0 END
) STORED;
-- engine: all
CREATE INDEX bundles_owner_disk ON bundles(owner_id, disk_bytes);
