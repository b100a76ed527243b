DROP TABLE stickers;
