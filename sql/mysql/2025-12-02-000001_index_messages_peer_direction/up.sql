-- The conversation lookup (when a recipient last wrote: direction and peer) keeps its index with
-- the peer first. With direction first, PostgreSQL could read `direction = 'out'` in the status
-- update as an index range and pick this index over the primary key: with statistics from before
-- the first outbound message (or none), it estimates one outbound row and then scans every
-- outbound message for each status it records (docs/performance.md, "PostgreSQL").
ALTER TABLE messages DROP INDEX messages_direction_peer, ADD INDEX messages_peer_direction (peer, direction, created_ms);
