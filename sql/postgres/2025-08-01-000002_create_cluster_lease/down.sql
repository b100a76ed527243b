DROP TABLE cluster_lease;
