-- A random value replaced on every password change (and new for every user created): a token is
-- valid only while the stamp it was issued under is still the user's, so a password change or
-- an admin's reset shuts out tokens issued before it, even one a login was still writing, and a
-- deleted user's tokens never come back with a new user of the same name. Users from before
-- this column share the empty stamp with their existing tokens, which stay valid.
ALTER TABLE users ADD COLUMN token_stamp VARCHAR(32) NOT NULL DEFAULT '';
