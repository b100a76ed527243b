ALTER TABLE messages DROP COLUMN shard_key;
