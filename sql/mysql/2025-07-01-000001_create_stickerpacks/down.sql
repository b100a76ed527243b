DROP TABLE stickers;
DROP TABLE stickerpacks;
