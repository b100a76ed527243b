DROP INDEX callbacks_due ON callbacks;
