-- Third-party sticker packs the business maintains (spec onprem-stickerpacks §5).
CREATE TABLE stickerpacks (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    publisher VARCHAR(512) NOT NULL,
    name VARCHAR(512) NOT NULL,
    ios_app_store_link VARCHAR(2048) NULL,
    android_app_store_link VARCHAR(2048) NULL,
    -- Indexes are never reused: the next sticker gets this one.
    next_index INTEGER NOT NULL,
    created_at BIGINT NOT NULL
);
