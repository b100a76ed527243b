DELETE FROM callbacks WHERE target <> 0;
DROP INDEX callbacks_target_due;
CREATE INDEX callbacks_due ON callbacks (next_attempt_ms);
ALTER TABLE callbacks DROP COLUMN target;
