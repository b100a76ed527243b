-- Named binary values set through the API (the profile photo), too large for config_values.
CREATE TABLE blobs (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    data BLOB NOT NULL,
    updated_at BIGINT NOT NULL
);
