-- The open conversation (24-hour pricing window) with each recipient.
CREATE TABLE conversations (
    recipient VARCHAR(32) NOT NULL PRIMARY KEY,
    id VARCHAR(64) NOT NULL,
    origin VARCHAR(32) NOT NULL,
    expires_at BIGINT NOT NULL
);
