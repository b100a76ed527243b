CREATE INDEX tokens_username_idx ON tokens (username);
