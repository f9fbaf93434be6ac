-- The most GPUs each worker has ever reported, so that a worker whose GPUs vanish (a driver
-- failure, a broken detection) is flagged in `cl workers` instead of silently taking no GPU runs.
ALTER TABLE workers ADD COLUMN gpus_seen INTEGER NOT NULL DEFAULT 0;
