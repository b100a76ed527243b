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
-- Their stickers (§6); sticker_id is what POST /v1/messages takes as sticker.id.
CREATE TABLE stickers (
    pack_id VARCHAR(64) NOT NULL,
    sticker_index INTEGER NOT NULL,
    sticker_id VARCHAR(64) NOT NULL,
    image_data_id VARCHAR(128) NOT NULL,
    emojis TEXT NOT NULL,
    PRIMARY KEY (pack_id, sticker_index)
);
CREATE UNIQUE INDEX stickers_sticker_id ON stickers (sticker_id);
