-- The registered business number and its network credentials; one row, id 'current'.
CREATE TABLE registration (
    id VARCHAR(16) NOT NULL PRIMARY KEY,
    phone VARCHAR(32) NOT NULL,
    vname VARCHAR(255) NOT NULL,
    secret VARCHAR(255) NOT NULL,
    registered_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
