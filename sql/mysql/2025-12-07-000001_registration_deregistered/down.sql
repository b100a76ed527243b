-- A deregistered number is registered again after a downgrade (the older coreapp has no such state).
ALTER TABLE registration DROP COLUMN deregistered_at;
