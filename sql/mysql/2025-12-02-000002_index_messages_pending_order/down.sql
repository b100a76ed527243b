ALTER TABLE messages DROP INDEX messages_status_created_id, ADD INDEX messages_status_created (status, created_ms);
