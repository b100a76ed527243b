-- The simulated network's state: one JSON document per (kind, key), e.g. ('business', '16315551234').
CREATE TABLE wanet_state (
    kind VARCHAR(32) NOT NULL,
    skey VARCHAR(255) NOT NULL,
    value LONGTEXT NOT NULL,
    PRIMARY KEY (kind, skey)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
