-- Messages in both directions. Outbound rows are written before the API answers 201 and stay
-- 'pending' until the network accepts them; inbound rows are written before the network is acked.
CREATE TABLE messages (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    direction VARCHAR(8) NOT NULL,
    peer VARCHAR(32) NOT NULL,
    msg_type VARCHAR(32) NOT NULL,
    payload TEXT NOT NULL,
    status VARCHAR(16) NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
