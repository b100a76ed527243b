-- Status webhooks look up when a recipient last wrote (conversation origin): without this
-- index that is a scan of every message.
CREATE INDEX messages_direction_peer ON messages (direction, peer, created_ms);
