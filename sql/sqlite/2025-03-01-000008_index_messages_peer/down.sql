DROP INDEX messages_direction_peer;
