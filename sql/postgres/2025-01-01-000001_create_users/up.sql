-- Web API users (On-Prem §5.1).
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username VARCHAR(32) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    role VARCHAR(32) NOT NULL,
    must_change_password BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username)
);
