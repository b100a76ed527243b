-- Values clients send or the product stores for them can exceed TEXT's 64 KB (a message with
-- long fields, its webhook, a webhook CA bundle, a certificate chain): MEDIUMTEXT holds 16 MB, more
-- than any request body the webapp accepts, so a length is decided at validation, never here.
ALTER TABLE messages MODIFY payload MEDIUMTEXT NOT NULL;
ALTER TABLE callbacks MODIFY body MEDIUMTEXT NOT NULL, MODIFY last_error MEDIUMTEXT NOT NULL;
ALTER TABLE config_values MODIFY value MEDIUMTEXT NOT NULL;
ALTER TABLE certs MODIFY cert_pem MEDIUMTEXT NOT NULL, MODIFY key_pem MEDIUMTEXT NOT NULL, MODIFY ca_pem MEDIUMTEXT NOT NULL;
