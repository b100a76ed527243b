-- Sends resolve a sticker by its id.
CREATE UNIQUE INDEX stickers_sticker_id ON stickers (sticker_id);
