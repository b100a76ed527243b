-- The open conversation (24-hour pricing window) with each recipient.
CREATE TABLE conversations (
    recipient VARCHAR(32) NOT NULL PRIMARY KEY,
    id VARCHAR(64) NOT NULL,
    origin VARCHAR(32) NOT NULL,
    expires_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
