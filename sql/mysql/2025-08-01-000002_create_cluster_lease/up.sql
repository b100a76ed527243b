-- The one lease the masters compete for: who holds it, the epoch (raised on every change of
-- holder, for fencing) and when it expires on the database's clock (unix ms).
CREATE TABLE cluster_lease (
    id INTEGER NOT NULL PRIMARY KEY,
    holder VARCHAR(128) NOT NULL,
    epoch BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    CONSTRAINT cluster_lease_single_row CHECK (id = 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
