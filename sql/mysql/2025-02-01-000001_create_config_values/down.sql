DROP TABLE config_values;
