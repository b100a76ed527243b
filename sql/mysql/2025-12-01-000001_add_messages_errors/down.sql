ALTER TABLE messages DROP COLUMN errors;
