DROP TABLE system_tokens;
