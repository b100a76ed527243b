-- When an outbound message that has not reached the network gives up: its ttl (templates, 410)
-- or the longest wait for the network (other types, 408). NULL: never.
ALTER TABLE messages ADD COLUMN expires_ms BIGINT NULL;
