DROP TABLE certs;
