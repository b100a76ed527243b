-- Issued bearer tokens, keyed by the token's random id; a token is valid only while its row exists.
CREATE TABLE tokens (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    username VARCHAR(32) NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
