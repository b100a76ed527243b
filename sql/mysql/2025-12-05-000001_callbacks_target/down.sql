DELETE FROM callbacks WHERE target <> 0;
ALTER TABLE callbacks DROP INDEX callbacks_target_due, ADD INDEX callbacks_due (next_attempt_ms),
    DROP COLUMN target;
