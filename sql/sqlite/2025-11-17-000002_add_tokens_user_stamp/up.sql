-- The user's token stamp when the token was issued (see users.token_stamp).
ALTER TABLE tokens ADD COLUMN user_stamp VARCHAR(32) NOT NULL DEFAULT '';
