ALTER TABLE config_values MODIFY value TEXT NOT NULL;
