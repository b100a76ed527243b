-- Pending messages are read oldest first, ties broken by id: with id in the index the read
-- stops after its LIMIT instead of sorting every pending message (InnoDB appends the primary key
-- to each secondary index by itself, PostgreSQL and SQLite need it spelled out).
DROP INDEX messages_status_created;
CREATE INDEX messages_status_created_id ON messages (status, created_ms, id);
