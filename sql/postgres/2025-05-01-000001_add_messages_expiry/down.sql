ALTER TABLE messages DROP COLUMN expires_ms;
