DROP INDEX tokens_username_idx;
