-- The delivery worker reads pending outbound messages in creation order.
CREATE INDEX messages_status_created ON messages (status, created_ms);
