-- TLS material per host name and kind (e.g. the webapp's server certificate).
CREATE TABLE certs (
    hostname VARCHAR(255) NOT NULL,
    cert_type VARCHAR(32) NOT NULL,
    cert_pem TEXT NOT NULL,
    key_pem TEXT NOT NULL,
    ca_pem TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (hostname, cert_type)
);
