-- The CRC-32 of an outbound message's recipient digits (wa_api::cluster::shard_key), so a
-- Multiconnect coreapp reads only its own shard's messages: shard_key % count = index.
-- Pending messages stored before this column existed are filled in by the store at start.
ALTER TABLE messages ADD COLUMN shard_key BIGINT NULL;
