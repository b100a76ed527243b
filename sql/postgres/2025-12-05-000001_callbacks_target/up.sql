-- Which webhook target a queued row goes to: 0 the On-Prem webhook URL, 1 the Cloud API
-- subscription (wa_api::webhooks::WebhookTarget). Each target drains its own rows, so one
-- receiver's outage never holds the other's webhooks back.
ALTER TABLE callbacks ADD COLUMN target SMALLINT NOT NULL DEFAULT 0;
DROP INDEX callbacks_due;
CREATE INDEX callbacks_target_due ON callbacks (target, next_attempt_ms);
