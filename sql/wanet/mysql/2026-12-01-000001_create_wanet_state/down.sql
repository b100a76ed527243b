DROP TABLE wanet_state;
