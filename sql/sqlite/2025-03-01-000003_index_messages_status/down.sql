DROP INDEX messages_status_created;
