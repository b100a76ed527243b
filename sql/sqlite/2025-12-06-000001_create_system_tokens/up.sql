-- Long-lived ("system user") bearer tokens an administrator creates for an integration. Only the
-- SHA-256 of the token is kept, so a copy of the database holds no usable token; the id is what
-- the API lists and revokes by.
CREATE TABLE system_tokens (
    id VARCHAR(32) NOT NULL PRIMARY KEY,
    name VARCHAR(64) NOT NULL,
    role VARCHAR(16) NOT NULL,
    token_hash VARCHAR(64) NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
