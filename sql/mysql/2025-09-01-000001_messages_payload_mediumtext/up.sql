-- Client values can exceed TEXT's 64 KB: MEDIUMTEXT (16 MB) holds more than any request body
-- the webapp accepts, so a length is decided at validation, never by the database.
ALTER TABLE messages MODIFY payload MEDIUMTEXT NOT NULL;
