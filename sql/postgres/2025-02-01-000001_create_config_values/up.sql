-- Runtime configuration set through the API (e.g. application settings, as JSON), so restarts lose nothing.
CREATE TABLE config_values (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
