-- One statement (MySQL cannot roll DDL back): rows queued for the Cloud target stay and go to the
-- On-Prem URL after a downgrade, with the On-Prem body they are stored with.
ALTER TABLE callbacks DROP INDEX callbacks_target_due, ADD INDEX callbacks_due (next_attempt_ms),
    DROP COLUMN target;
