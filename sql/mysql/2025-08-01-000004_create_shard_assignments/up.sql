-- Which coreapp holds each shard, written by the lease holder only: lease_epoch is the epoch it
-- held when it wrote the row.
CREATE TABLE shard_assignments (
    shard_index INTEGER NOT NULL PRIMARY KEY,
    shard_count INTEGER NOT NULL,
    holder_node VARCHAR(128) NOT NULL,
    lease_epoch BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
