-- Installation-wide generated secrets (e.g. the JWT signing key) shared by every webapp.
CREATE TABLE secrets (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
