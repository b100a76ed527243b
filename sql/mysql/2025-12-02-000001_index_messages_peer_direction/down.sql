ALTER TABLE messages DROP INDEX messages_peer_direction, ADD INDEX messages_direction_peer (direction, peer, created_ms);
