-- Media metadata; the bytes are the file named by id in the media directory.
CREATE TABLE media (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    mime_type VARCHAR(255) NOT NULL,
    sha256 VARCHAR(64) NOT NULL,
    size_bytes BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL
);
