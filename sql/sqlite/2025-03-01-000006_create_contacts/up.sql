-- Contact check results, cached for 7 days.
CREATE TABLE contacts (
    wa_id VARCHAR(32) NOT NULL PRIMARY KEY,
    on_whatsapp BOOLEAN NOT NULL,
    checked_at BIGINT NOT NULL
);
