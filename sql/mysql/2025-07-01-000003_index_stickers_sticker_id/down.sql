DROP INDEX stickers_sticker_id ON stickers;
