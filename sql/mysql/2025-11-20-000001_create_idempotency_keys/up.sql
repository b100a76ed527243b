-- The first answer to each POST /v1/messages sent with an Idempotency-Key, written in the
-- transaction that stores the message; a repeat within 24 hours gets this answer back.
CREATE TABLE idempotency_keys (
    idem_key VARCHAR(255) NOT NULL PRIMARY KEY,
    request_hash VARCHAR(64) NOT NULL,
    message_id VARCHAR(128) NOT NULL,
    response MEDIUMTEXT NOT NULL,
    created_ms BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
