DROP TABLE cluster_nodes;
