-- Every master and coreapp of a cluster: its role, where it listens, its own status, and when it
-- last said it is alive, on the database's clock (unix ms), so the nodes' clocks never need to agree.
CREATE TABLE cluster_nodes (
    node_id VARCHAR(128) NOT NULL PRIMARY KEY,
    role VARCHAR(16) NOT NULL,
    address VARCHAR(255) NOT NULL,
    heartbeat_ms BIGINT NOT NULL,
    status VARCHAR(16) NOT NULL
);
