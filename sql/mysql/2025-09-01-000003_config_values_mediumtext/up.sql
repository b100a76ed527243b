-- A webhook CA bundle or a media provider list can exceed 64 KB.
ALTER TABLE config_values MODIFY value MEDIUMTEXT NOT NULL;
