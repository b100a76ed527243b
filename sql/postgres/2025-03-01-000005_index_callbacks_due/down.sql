DROP INDEX callbacks_due;
