-- The durable webhook outbox. event_key makes re-processing an event idempotent.
CREATE TABLE callbacks (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    event_key VARCHAR(191) NOT NULL,
    kind VARCHAR(32) NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_ms BIGINT NOT NULL,
    last_error TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    CONSTRAINT callbacks_event_key_key UNIQUE (event_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
