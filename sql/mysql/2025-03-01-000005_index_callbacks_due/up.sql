-- The dispatcher reads the callbacks that are due.
CREATE INDEX callbacks_due ON callbacks (next_attempt_ms);
