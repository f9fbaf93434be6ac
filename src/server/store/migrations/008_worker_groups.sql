-- A private worker started with --group serves the members of that group too. The group is kept
-- by uuid (names can be reused after a group is deleted); deleting the group ends the sharing.
ALTER TABLE workers ADD COLUMN group_uuid TEXT REFERENCES groups(uuid) ON DELETE SET NULL;
