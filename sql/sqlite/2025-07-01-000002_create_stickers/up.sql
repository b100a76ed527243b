-- Their stickers (§6); sticker_id is what POST /v1/messages takes as sticker.id.
CREATE TABLE stickers (
    pack_id VARCHAR(64) NOT NULL,
    sticker_index INTEGER NOT NULL,
    sticker_id VARCHAR(64) NOT NULL,
    image_data_id VARCHAR(128) NOT NULL,
    emojis TEXT NOT NULL,
    PRIMARY KEY (pack_id, sticker_index)
);
