-- The error objects (JSON array: code, title, details) of an outbound message that failed, so
-- GET /v1/messages/{id} can say why without the webhook.
ALTER TABLE messages ADD COLUMN errors TEXT NULL;
