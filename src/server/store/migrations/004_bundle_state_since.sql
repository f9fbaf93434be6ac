-- When each bundle entered its current state (epoch ms), so that a state may be bounded in time
-- (a run stuck in preparing, say) however often the bundle is otherwise updated.
ALTER TABLE bundles ADD COLUMN state_since INTEGER NOT NULL DEFAULT 0;
UPDATE bundles SET state_since = last_updated;
