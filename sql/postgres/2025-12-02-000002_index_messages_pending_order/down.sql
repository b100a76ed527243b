DROP INDEX messages_status_created_id;
CREATE INDEX messages_status_created ON messages (status, created_ms);
