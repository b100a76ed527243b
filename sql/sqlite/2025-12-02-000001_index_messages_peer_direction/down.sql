DROP INDEX messages_peer_direction;
CREATE INDEX messages_direction_peer ON messages (direction, peer, created_ms);
