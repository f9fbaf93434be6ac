-- A worker started with --shared-file-system sees the server's bundle store at the same paths:
-- its runs are sent where their dependencies lie, and it mounts them instead of downloading.
ALTER TABLE workers ADD COLUMN shared_file_system INTEGER NOT NULL DEFAULT 0;
