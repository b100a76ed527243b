-- The latest identity (security code) of each contact and whether the business acknowledged it.
CREATE TABLE contact_identities (
    wa_id VARCHAR(32) NOT NULL PRIMARY KEY,
    hash VARCHAR(64) NOT NULL,
    created_ms BIGINT NOT NULL,
    acknowledged BOOLEAN NOT NULL
);
