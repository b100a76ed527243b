-- A certificate chain with its CA bundle can exceed 64 KB.
ALTER TABLE certs MODIFY cert_pem MEDIUMTEXT NOT NULL, MODIFY key_pem MEDIUMTEXT NOT NULL, MODIFY ca_pem MEDIUMTEXT NOT NULL;
