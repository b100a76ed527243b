DROP TABLE shard_assignments;
