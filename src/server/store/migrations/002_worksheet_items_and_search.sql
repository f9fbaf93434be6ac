-- Worksheet items can be text (`cl add text`) as well as bundles; bundle_uuid is '' for text.
ALTER TABLE worksheet_items ADD COLUMN item_type TEXT NOT NULL DEFAULT 'bundle';
ALTER TABLE worksheet_items ADD COLUMN value TEXT;
CREATE INDEX worksheet_items_bundle ON worksheet_items(bundle_uuid);
CREATE INDEX bundles_owner ON bundles(owner_id, id);
