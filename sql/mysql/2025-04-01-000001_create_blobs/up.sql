-- Named binary values set through the API (the profile photo), too large for config_values.
CREATE TABLE blobs (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    data LONGBLOB NOT NULL,
    updated_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
