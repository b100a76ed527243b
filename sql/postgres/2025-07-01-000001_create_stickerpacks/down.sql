DROP TABLE stickerpacks;
